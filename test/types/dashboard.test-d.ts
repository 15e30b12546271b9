import Fastify from 'fastify'
import pg from 'pg'
import { expectAssignable, expectError, expectNotAssignable, expectType } from 'tsd'
import type { AnalyticsCollector } from 'fastify-analytics'
import { duckdbCollector, type DuckDBCollector, type DuckDBCollectorOptions } from 'fastify-analytics/duckdb'
import { postgresCollector } from 'fastify-analytics/postgres'
import { analyticsDashboard, type AnalyticsDashboardOptions, type BreakdownRow, type Summary } from 'fastify-analytics/dashboard'

const store = duckdbCollector({ path: 'analytics.duckdb', table: 'events', createTable: true, ip: 'none', maxBatchSize: 500 })
expectType<DuckDBCollector>(store)
expectAssignable<AnalyticsCollector>(store)
expectNotAssignable<DuckDBCollectorOptions>({ table: 'events' })
expectNotAssignable<DuckDBCollectorOptions>({ path: 'a.duckdb', ip: 'partial' })

const app = Fastify()
app.register(analyticsDashboard, { prefix: '/analytics', source: store, access: (request) => request.headers['x-admin'] === 'yes' })
app.register(analyticsDashboard, { prefix: '/analytics', source: { duckdb: { path: 'analytics.duckdb' } }, access: 'public' })
app.register(analyticsDashboard, { source: { postgres: { pool: new pg.Pool() } }, access: async (_request, reply) => { reply.code(401); return false } })
app.register(analyticsDashboard, { source: postgresCollector({ connectionString: 'postgres://localhost/app' }), access: 'public', queryTimeoutMs: 2000, title: 'Shop' })
app.register(analyticsDashboard, { source: { clickhouse: { url: 'http://127.0.0.1:8123', username: 'reader', password: 'secret' } }, access: 'public' })
// access is required, and only a function or 'public'.
expectNotAssignable<AnalyticsDashboardOptions>({ source: store })
expectNotAssignable<AnalyticsDashboardOptions>({ source: store, access: 'private' })
expectNotAssignable<AnalyticsDashboardOptions>({ source: { mysql: { url: 'x' } }, access: 'public' })
expectError(app.register(analyticsDashboard, { source: store }))

declare const summary: Summary
expectType<number>(summary.bounceRate)
expectType<string>(summary.revenue[0].minor)
declare const row: BreakdownRow
expectType<string>(row.value)
