import type { FastifyReply, FastifyRequest } from 'fastify'
import { FST_ANALYTICS_DASHBOARD_ACCESS } from '../errors.js'
import { optionErrors } from '../collectors/options.js'
import { DEFAULT_DUCKDB_TABLE, duckdbPath } from '../collectors/duckdb/options.js'
import { DEFAULT_POSTGRES_TABLE, type PostgresPool } from '../collectors/postgres/options.js'
import { DEFAULT_CLICKHOUSE_DATABASE, DEFAULT_CLICKHOUSE_TABLE, normalizeClickHouseOptions } from '../collectors/clickhouse/options.js'
import { tableParts } from '../collectors/warehouse/common.js'
import { warehouseSource, type WarehouseSource } from '../collectors/warehouse/source.js'
import type { DashboardPgPool } from './readers.js'
import type { DuckDBCollector } from '../collectors/duckdb.js'
import type { PostgresCollector } from '../collectors/postgres.js'
import type { ClickHouseCollector } from '../collectors/clickhouse.js'

/** Who may see the numbers: your check (a session, a role, basic auth), or `'public'` on purpose. */
export type DashboardAccess = ((request: FastifyRequest, reply: FastifyReply) => boolean | Promise<boolean>) | 'public'

/** A store to read, when the dashboard is not given the collector itself. */
export type DashboardSourceOptions =
  | { duckdb: { path: string, table?: string } }
  | { postgres: { connectionString: string, table?: string } | { pool: DashboardPgPool, table?: string } }
  | { clickhouse: { url: string, database?: string, table?: string, username?: string, password?: string } }

export interface AnalyticsDashboardOptions {
  /**
   * The `duckdbCollector()`, `postgresCollector()` or `clickhouseCollector()` the app stores events
   * with (the dashboard reads the same store), or where to read: `{ duckdb: { path } }`,
   * `{ postgres: { connectionString } | { pool } }`, `{ clickhouse: { url, … } }`.
   */
  source: DuckDBCollector | PostgresCollector | ClickHouseCollector | DashboardSourceOptions
  /** Required: who may see the dashboard. A denied request gets 401 or 403 and nothing else. */
  access: DashboardAccess
  /** Each query's time limit; past it the API answers 504. Default 5 000. */
  queryTimeoutMs?: number
  /** The page's title. Default `'Analytics'`. */
  title?: string
  /** Fastify's `prefix`, e.g. `'/analytics'`. */
  prefix?: string
}

// Long enough for a year's range on a million events on a busy machine (the bench measures
// ~0.3 s), short enough that a stuck store frees its connection.
export const DEFAULT_DASHBOARD_QUERY_TIMEOUT_MS = 5000
export const DEFAULT_DASHBOARD_TITLE = 'Analytics'
const MAX_TITLE_LENGTH = 100

const OWN_OPTION_KEYS = new Set(['source', 'access', 'queryTimeoutMs', 'title', 'prefix', 'logLevel', 'logSerializers'])

export const invalidOption = optionErrors('analyticsDashboard')

export interface NormalizedDashboardOptions {
  source: WarehouseSource
  access: DashboardAccess
  queryTimeoutMs: number
  title: string
}

export function normalizeDashboardOptions (options: AnalyticsDashboardOptions): NormalizedDashboardOptions {
  if (options === null || typeof options !== 'object') throw invalidOption('options must be an object with source and access')
  for (const key of Object.keys(options)) {
    if (!OWN_OPTION_KEYS.has(key)) throw invalidOption(`unknown option "${key.slice(0, 64)}"`)
  }
  const access = options.access
  if (access === undefined) throw new FST_ANALYTICS_DASHBOARD_ACCESS()
  if (access !== 'public' && typeof access !== 'function') throw invalidOption('access must be a function (request, reply) => boolean | Promise<boolean>, or \'public\'')
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_DASHBOARD_QUERY_TIMEOUT_MS
  if (!Number.isInteger(queryTimeoutMs) || queryTimeoutMs < 1 || queryTimeoutMs > 600_000) throw invalidOption('queryTimeoutMs must be an integer from 1 to 600000')
  const title = options.title ?? DEFAULT_DASHBOARD_TITLE
  if (typeof title !== 'string' || title === '' || title.length > MAX_TITLE_LENGTH) throw invalidOption(`title must be a non-empty string of at most ${MAX_TITLE_LENGTH} characters`)
  return { source: sourceOption(options.source), access, queryTimeoutMs, title }
}

function sourceOption (source: unknown): WarehouseSource {
  if (source === null || typeof source !== 'object') {
    throw invalidOption('source is required: a duckdbCollector, postgresCollector or clickhouseCollector, or { duckdb: { path } }, { postgres: { connectionString } }, { clickhouse: { url } }')
  }
  const collector = warehouseSource(source)
  if (collector !== undefined) return collector
  const keys = Object.keys(source)
  if (keys.length !== 1) throw invalidOption('source must be a warehouse collector or an object with exactly one of duckdb, postgres, clickhouse')
  const given = (source as Record<string, unknown>)[keys[0]]
  if (given === null || typeof given !== 'object') throw invalidOption(`source.${keys[0]} must be an object`)
  const settings = given as Record<string, unknown>
  switch (keys[0]) {
    case 'duckdb': {
      const path = duckdbPath(settings.path, (message) => invalidOption(`source.duckdb.${message}`))
      const table = tableParts(settings.table ?? DEFAULT_DUCKDB_TABLE, invalidOption, true).join('.')
      return { kind: 'duckdb', path, table, instance: () => undefined }
    }
    case 'postgres': {
      const { connectionString, pool } = settings
      if ((connectionString === undefined) === (pool === undefined)) throw invalidOption('source.postgres needs exactly one of connectionString and pool')
      if (connectionString !== undefined && (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(connectionString))) {
        throw invalidOption('source.postgres.connectionString must be a postgres:// or postgresql:// URL')
      }
      if (pool !== undefined && (pool === null || typeof (pool as { connect?: unknown }).connect !== 'function')) throw invalidOption('source.postgres.pool must be a pg.Pool')
      const table = tableParts(settings.table ?? DEFAULT_POSTGRES_TABLE, invalidOption, true).join('.')
      return { kind: 'postgres', table, connectionString: connectionString as string | undefined, pool: pool as PostgresPool | undefined }
    }
    case 'clickhouse': {
      // The collector's own checks (a URL without credentials, plain identifiers), with the dashboard's name in the message.
      let normalized
      try {
        normalized = normalizeClickHouseOptions({ url: settings.url as string, database: settings.database as string | undefined, table: settings.table as string | undefined, username: settings.username as string | undefined, password: settings.password as string | undefined })
      } catch (error) {
        throw invalidOption(`source.clickhouse: ${(error as Error).message.replace(/^.*clickhouseCollector: /, '')}`)
      }
      return {
        kind: 'clickhouse',
        table: normalized.table ?? DEFAULT_CLICKHOUSE_TABLE,
        url: normalized.url,
        database: normalized.database ?? DEFAULT_CLICKHOUSE_DATABASE,
        username: normalized.username,
        password: normalized.password
      }
    }
    default:
      throw invalidOption(`source.${keys[0].slice(0, 64)} is not a store the dashboard reads: duckdb, postgres or clickhouse`)
  }
}
