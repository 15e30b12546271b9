import type { AnalyticsEvent } from '../../event.js'
import { resolve } from 'node:path'
import type { IpPolicy } from '../../privacy/ip.js'
import { checkCollectorOptions, eventsFilter, EVERY_EVENT, ipPolicyOption, optionErrors, pickBatchingOptions, type CollectorEventsOption } from '../options.js'
import { DEFAULT_WAREHOUSE_IP_POLICY, tableParts, WAREHOUSE_BATCHING_KEYS, type WarehouseBatchingOptions } from '../warehouse/common.js'

export interface DuckDBCollectorOptions extends WarehouseBatchingOptions, CollectorEventsOption {
  /**
   * The database file, made when missing (`'analytics.duckdb'`), or `':memory:'` for a database
   * that lives as long as the process. One process owns a file: a second process that opens it
   * fails its `ready()`.
   */
  path: string
  /** `name` or `schema.name`. Default `'analytics_events'`. */
  table?: string
  /**
   * Create the table (schema/duckdb.sql) at start when missing, and add the columns a table made by
   * an earlier release lacks. Default true: an embedded file has no administrator to run the DDL.
   */
  createTable?: boolean
  /** How much of the client IP is stored. Default `'truncate'`. */
  ip?: IpPolicy
  /** Name in logs and `stats()`. Default `'duckdb'`. */
  name?: string
}

export const DEFAULT_DUCKDB_NAME = 'duckdb'
export const DEFAULT_DUCKDB_TABLE = 'analytics_events'
// The appender runs on the request thread (its calls are synchronous, about 0.5 µs a value): 1 000
// rows of 38 columns are ~20 ms of appending, so a batch stays below one frame of a busy event loop
// while a second's traffic of a large site still fits in one or two transactions.
export const DEFAULT_DUCKDB_BATCH_SIZE = 1000
export const DEFAULT_DUCKDB_FLUSH_INTERVAL_MS = 1000
// DuckDB takes one writer at a time in a file: a second concurrent batch would only wait for the first.
export const DEFAULT_DUCKDB_CONCURRENCY = 1

const OWN_OPTION_KEYS = new Set<string>(['path', 'table', 'createTable', 'ip', 'name', ...WAREHOUSE_BATCHING_KEYS])

export const invalidOption = optionErrors('duckdbCollector')

export const IN_MEMORY = ':memory:'

export interface NormalizedDuckDBOptions {
  /** The `events` option (eventsFilter): every event by default, crawlers included. */
  events: ((event: Readonly<AnalyticsEvent>) => boolean) | undefined
  name: string
  /** Absolute, so the instance cache finds one database however the path was spelled. */
  path: string
  table: string
  createTable: boolean
  ip: IpPolicy
  batching: WarehouseBatchingOptions
}

export function normalizeDuckDBOptions (options: DuckDBCollectorOptions): NormalizedDuckDBOptions {
  const name = checkCollectorOptions(options, OWN_OPTION_KEYS, DEFAULT_DUCKDB_NAME, invalidOption, 'a path')
  const path = duckdbPath(options.path, invalidOption)
  const table = tableParts(options.table ?? DEFAULT_DUCKDB_TABLE, invalidOption, true).join('.')
  const createTable = options.createTable ?? true
  if (typeof createTable !== 'boolean') throw invalidOption('createTable must be a boolean')
  const ip = ipPolicyOption(options.ip, DEFAULT_WAREHOUSE_IP_POLICY, invalidOption)
  return { name, path, table, createTable, ip, batching: pickBatchingOptions(options), events: eventsFilter(options.events, EVERY_EVENT, invalidOption) }
}

/** Checks a database path and makes it absolute (`:memory:` stays as it is). */
export function duckdbPath (value: unknown, invalid: (message: string) => Error): string {
  if (typeof value !== 'string' || value === '' || value.includes('\u0000')) {
    throw invalid('path is required: the database file (e.g. "analytics.duckdb") or ":memory:"')
  }
  return value === IN_MEMORY ? value : resolve(value)
}
