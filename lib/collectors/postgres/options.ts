import type { AnalyticsEvent } from '../../event.js'
import type { IpPolicy } from '../../privacy/ip.js'
import { checkCollectorOptions, eventsFilter, EVERY_EVENT, ipPolicyOption, optionErrors, pickBatchingOptions, type CollectorEventsOption } from '../options.js'
import { DEFAULT_WAREHOUSE_IP_POLICY, tableParts, WAREHOUSE_BATCHING_KEYS, type WarehouseBatchingOptions } from '../warehouse/common.js'

/** The part of a `pg` pool client the collector uses; a `pg.PoolClient` satisfies it. */
export interface PostgresPoolClient {
  query (text: string): Promise<unknown>
  /** `true` (or an error) destroys the connection instead of returning it to the pool. */
  release (destroy?: boolean | Error): void
  on (event: 'error', listener: (error: Error) => void): unknown
  removeListener (event: 'error', listener: (error: Error) => void): unknown
}

/** The part of a `pg.Pool` the collector uses; pass your own `new pg.Pool(…)` as `pool`. */
export interface PostgresPool {
  connect (): Promise<PostgresPoolClient>
  on (event: 'error', listener: (error: Error) => void): unknown
  removeListener (event: 'error', listener: (error: Error) => void): unknown
}

/** The options: exactly one of `connectionString` and `pool` (giving both, or neither, does not compile). */
export type PostgresCollectorOptions = PostgresConnectionStringOptions | PostgresPoolOptions

export interface PostgresConnectionStringOptions extends PostgresCommonOptions {
  /** `postgres://user:password@host:port/database`. Never logged. */
  connectionString: string
  pool?: never
}

export interface PostgresPoolOptions extends PostgresCommonOptions {
  /** A `pg.Pool` you own (it is not ended at close). */
  pool: PostgresPool
  connectionString?: never
}

/** What both connection styles take. */
export interface PostgresCommonOptions extends WarehouseBatchingOptions, CollectorEventsOption {
  /** `name` or `schema.name`. Default `'analytics_events'`. */
  table?: string
  /** Create the table and its indexes (schema/postgres.sql) at start when missing. Default false. */
  createTable?: boolean
  /** How much of the client IP is stored. Default `'truncate'`. */
  ip?: IpPolicy
  /** Name in logs and `stats()`. Default `'postgres'`. */
  name?: string
}

export const DEFAULT_POSTGRES_NAME = 'postgres'
export const DEFAULT_POSTGRES_TABLE = 'analytics_events'
// COPY streams rows without per-row round trips: a few thousand rows make a ~1–2 MB COPY that
// PostgreSQL takes in a few milliseconds, while a retried batch stays cheap to re-send.
export const DEFAULT_POSTGRES_BATCH_SIZE = 2000
export const DEFAULT_POSTGRES_FLUSH_INTERVAL_MS = 1000
// Two connections: one batch commits while the next copies; more mostly adds lock and WAL contention.
export const DEFAULT_POSTGRES_CONCURRENCY = 2

const OWN_OPTION_KEYS = new Set<string>(['connectionString', 'pool', 'table', 'createTable', 'ip', 'name', ...WAREHOUSE_BATCHING_KEYS])

export const invalidOption = optionErrors('postgresCollector')

export interface NormalizedPostgresOptions {
  /** The `events` option (eventsFilter): every event by default, crawlers included. */
  events: ((event: Readonly<AnalyticsEvent>) => boolean) | undefined
  name: string
  connectionString: string | undefined
  pool: PostgresPool | undefined
  table: string
  createTable: boolean
  ip: IpPolicy
  batching: WarehouseBatchingOptions
}

export function normalizePostgresOptions (options: PostgresCollectorOptions): NormalizedPostgresOptions {
  const name = checkCollectorOptions(options, OWN_OPTION_KEYS, DEFAULT_POSTGRES_NAME, invalidOption, 'a connectionString or a pool')
  const { connectionString, pool } = options
  if ((connectionString === undefined) === (pool === undefined)) throw invalidOption('give exactly one of connectionString and pool')
  if (connectionString !== undefined) {
    if (typeof connectionString !== 'string' || !/^postgres(ql)?:\/\//.test(connectionString)) {
      throw invalidOption('connectionString must be a postgres:// or postgresql:// URL')
    }
  } else if (pool === null || typeof pool !== 'object' || typeof pool.connect !== 'function' || typeof pool.on !== 'function') {
    throw invalidOption('pool must be a pg.Pool')
  }
  const table = tableParts(options.table ?? DEFAULT_POSTGRES_TABLE, invalidOption, true).join('.')
  const createTable = options.createTable ?? false
  if (typeof createTable !== 'boolean') throw invalidOption('createTable must be a boolean')
  const ip = ipPolicyOption(options.ip, DEFAULT_WAREHOUSE_IP_POLICY, invalidOption)
  // Only the engine's options: the engine never holds a password or connection string.
  const batching = pickBatchingOptions(options)
  return { name, connectionString, pool, table, createTable, ip, batching, events: eventsFilter(options.events, EVERY_EVENT, invalidOption) }
}
