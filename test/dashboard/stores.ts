import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DuckDBInstance } from '@duckdb/node-api'
import { duckdbCollector, type DuckDBCollector } from '../../lib/collectors/duckdb.js'
import { postgresCollector, type PostgresCollector } from '../../lib/collectors/postgres.js'
import { clickhouseCollector, type ClickHouseCollector } from '../../lib/collectors/clickhouse.js'
import type { AnalyticsEvent } from '../../lib/event.js'
import { totalDropped } from '../../lib/collector.js'
import { logCapture, type TapTest } from '../helpers/collectors.js'
import { startPostgres } from '../helpers/servers/postgres.js'
import { CLICKHOUSE_PASSWORD, CLICKHOUSE_USER, startClickHouse } from '../helpers/servers/clickhouse.js'
import { readReports } from '../warehouse/reports.js'

export type StoreKind = 'duckdb' | 'postgres' | 'clickhouse'
export const STORE_KINDS: readonly StoreKind[] = ['duckdb', 'postgres', 'clickhouse']

/** A started collector on a real store, the store's shipped reports, and a way to run them. */
export interface Store {
  kind: StoreKind
  collector: DuckDBCollector | PostgresCollector | ClickHouseCollector
  /** Stores events and waits until the collector has delivered them all. */
  load: (events: AnalyticsEvent[]) => Promise<void>
  /** Runs a shipped report (schema/reports/<kind>.sql) on this store's table. */
  report: (name: string) => Promise<Array<Record<string, unknown>>>
}

let tables = 0

/**
 * Starts the store (a DuckDB file, or a PostgreSQL or ClickHouse server the test owns) with a
 * collector on a fresh table. Undefined when the server is missing outside CI (a loud skip).
 */
export async function openStore (t: TapTest, kind: StoreKind): Promise<Store | undefined> {
  const table = `dash_${process.pid}_${++tables}`
  const logs = logCapture()
  const batching = { flushIntervalMs: 20, maxQueueSize: 2_000_000, maxQueueBytes: 1 << 30 }
  let collector: Store['collector']
  let run: (sql: string) => Promise<Array<Record<string, unknown>>>
  if (kind === 'duckdb') {
    const dir = mkdtempSync(join(tmpdir(), 'fa-dash-'))
    t.teardown(() => rmSync(dir, { recursive: true, force: true }))
    const path = join(dir, 'analytics.duckdb')
    collector = duckdbCollector({ path, table, ip: 'full', ...batching })
    run = async (sql) => {
      const instance = await DuckDBInstance.fromCache(path)
      const connection = await instance.connect()
      try {
        return (await connection.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>
      } finally {
        connection.closeSync()
        instance.closeSync()
      }
    }
  } else if (kind === 'postgres') {
    const server = await startPostgres(t)
    if (server === undefined) return undefined
    collector = postgresCollector({ connectionString: server.url, table, createTable: true, ip: 'full', ...batching, maxBatchSize: 20_000 })
    run = (sql) => server.query(sql)
  } else {
    const server = await startClickHouse(t)
    if (server === undefined) return undefined
    collector = clickhouseCollector({ url: server.url, username: CLICKHOUSE_USER, password: CLICKHOUSE_PASSWORD, table, createTable: true, ip: 'full', ...batching, maxBatchSize: 100_000 })
    run = (sql) => server.query(sql)
  }
  await collector.start(AbortSignal.timeout(30_000), { log: logs.log })
  // Registered after the server's teardown, so it runs first (last in, first out).
  t.teardown(() => collector.close(AbortSignal.timeout(10_000)))
  const reports = readReports(`${kind}.sql`)
  return {
    kind,
    collector,
    async load (events) {
      const before = collector.stats()
      for (const event of events) collector.collect(event)
      await collector.flush(AbortSignal.timeout(120_000))
      const after = collector.stats()
      const dropped = totalDropped(after.dropped) - totalDropped(before.dropped)
      if (dropped > 0 || after.delivered - before.delivered !== events.length) {
        throw new Error(`${kind}: ${after.delivered - before.delivered} of ${events.length} events stored, ${dropped} dropped: ${logs.text()}`)
      }
    },
    async report (name) {
      const sql = reports.get(name)
      if (sql === undefined) throw new Error(`no report ${name} in ${kind}.sql`)
      return await run(sql.replaceAll('analytics_events', table))
    }
  }
}
