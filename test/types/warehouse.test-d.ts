import pg from 'pg'
import { expectAssignable, expectNotAssignable, expectType } from 'tsd'
import type { AnalyticsCollector, AnalyticsEvent, AnalyticsEventInput, AnalyticsEventJSON } from 'fastify-analytics'
import { postgresCollector, type PostgresCollector, type PostgresCollectorOptions, type PostgresPool } from 'fastify-analytics/postgres'
import { clickhouseCollector, type ClickHouseCollector, type ClickHouseCollectorOptions } from 'fastify-analytics/clickhouse'

const postgres = postgresCollector({ connectionString: 'postgres://localhost/app', table: 'analytics.events', createTable: true, ip: 'none', maxBatchSize: 5000 })
expectType<PostgresCollector>(postgres)
expectAssignable<AnalyticsCollector>(postgres)
// A pg.Pool the application owns fits the structural pool type.
expectAssignable<PostgresPool>(new pg.Pool())
postgresCollector({ pool: new pg.Pool(), retry: { maxAttempts: 10 } })
expectNotAssignable<PostgresCollectorOptions>({ connectionString: 'postgres://localhost/app', ip: 'partial' })
expectNotAssignable<PostgresCollectorOptions>({ connectionString: 'postgres://localhost/app', createTable: 'yes' })

const clickhouse = clickhouseCollector({ url: 'http://127.0.0.1:8123', database: 'analytics', username: 'writer', password: 'secret', createTable: true, ip: 'full' })
expectType<ClickHouseCollector>(clickhouse)
expectAssignable<AnalyticsCollector>(clickhouse)
expectNotAssignable<ClickHouseCollectorOptions>({ database: 'analytics' })
expectNotAssignable<ClickHouseCollectorOptions>({ url: 'http://127.0.0.1:8123', password: 42 })

declare const event: AnalyticsEvent
expectType<string>(event.id)
declare const json: AnalyticsEventJSON
expectType<string>(json.id)
expectAssignable<AnalyticsEventInput>({ type: 'custom', eventName: 'import', id: '0190a6e0-1b2c-7d3e-8f40-123456789abc' })
