import type { AnalyticsEvent } from '../../event.js'
import type { IpPolicy } from '../../privacy/ip.js'
import { checkCollectorOptions, eventsFilter, EVERY_EVENT, ipPolicyOption, optionErrors, pickBatchingOptions, type CollectorEventsOption } from '../options.js'
import { DEFAULT_WAREHOUSE_IP_POLICY, tableParts, WAREHOUSE_BATCHING_KEYS, type WarehouseBatchingOptions } from '../warehouse/common.js'

export interface ClickHouseCollectorOptions extends WarehouseBatchingOptions, CollectorEventsOption {
  /** The HTTP interface: `http(s)://host:8123`, no credentials in it. */
  url: string
  /** Default `'default'`. */
  database?: string
  /** Default `'analytics_events'`. */
  table?: string
  /** Default `'default'`. */
  username?: string
  /** Never logged. Default empty. */
  password?: string
  /**
   * Create the table at start when missing: schema/clickhouse.sql on ClickHouse 22 and later,
   * schema/clickhouse-18.16.sql before (no DateTime64 there). Default false.
   */
  createTable?: boolean
  /** How much of the client IP is stored. Default `'truncate'`. */
  ip?: IpPolicy
  /** Name in logs and `stats()`. Default `'clickhouse'`. */
  name?: string
}

export const DEFAULT_CLICKHOUSE_NAME = 'clickhouse'
export const DEFAULT_CLICKHOUSE_TABLE = 'analytics_events'
export const DEFAULT_CLICKHOUSE_DATABASE = 'default'
// ClickHouse wants few, large inserts: every insert makes a part that merges must later fold in
// ("Too many parts" beyond a few hundred a partition), so batches are big and sent once a second.
export const DEFAULT_CLICKHOUSE_BATCH_SIZE = 10_000
export const DEFAULT_CLICKHOUSE_FLUSH_INTERVAL_MS = 1000
export const DEFAULT_CLICKHOUSE_CONCURRENCY = 1

const OWN_OPTION_KEYS = new Set<string>(['url', 'database', 'table', 'username', 'password', 'createTable', 'ip', 'name', ...WAREHOUSE_BATCHING_KEYS])

export const invalidOption = optionErrors('clickhouseCollector')

export interface NormalizedClickHouseOptions {
  /** The `events` option (eventsFilter): every event by default, crawlers included. */
  events: ((event: Readonly<AnalyticsEvent>) => boolean) | undefined
  name: string
  url: string
  database: string
  table: string
  username: string
  password: string
  createTable: boolean
  ip: IpPolicy
  batching: WarehouseBatchingOptions
}

export function normalizeClickHouseOptions (options: ClickHouseCollectorOptions): NormalizedClickHouseOptions {
  const name = checkCollectorOptions(options, OWN_OPTION_KEYS, DEFAULT_CLICKHOUSE_NAME, invalidOption, 'a url')
  if (typeof options.url !== 'string') throw invalidOption('url is required: the HTTP interface, e.g. http://127.0.0.1:8123')
  let url: URL
  try {
    url = new URL(options.url)
  } catch {
    throw invalidOption('url is not an absolute URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidOption('url must be http or https (the HTTP interface)')
  if (url.username !== '' || url.password !== '') throw invalidOption('url must not carry credentials: use the username and password options')
  const database = tableParts(options.database ?? DEFAULT_CLICKHOUSE_DATABASE, (message) => invalidOption(message.replace('table', 'database')), false)[0]
  const table = tableParts(options.table ?? DEFAULT_CLICKHOUSE_TABLE, invalidOption, false)[0]
  const username = options.username ?? 'default'
  if (typeof username !== 'string' || username === '') throw invalidOption('username must be a non-empty string')
  const password = options.password ?? ''
  if (typeof password !== 'string') throw invalidOption('password must be a string')
  const createTable = options.createTable ?? false
  if (typeof createTable !== 'boolean') throw invalidOption('createTable must be a boolean')
  const ip = ipPolicyOption(options.ip, DEFAULT_WAREHOUSE_IP_POLICY, invalidOption)
  // Only the engine's options: the engine never holds a password or connection string.
  const batching = pickBatchingOptions(options)
  return { name, url: url.origin + url.pathname.replace(/\/$/, ''), database, table, username, password, createTable, ip, batching, events: eventsFilter(options.events, EVERY_EVENT, invalidOption) }
}
