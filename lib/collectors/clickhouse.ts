import { WarehouseCollector } from './warehouse/collector.js'
import {
  DEFAULT_CLICKHOUSE_BATCH_SIZE, DEFAULT_CLICKHOUSE_CONCURRENCY, DEFAULT_CLICKHOUSE_FLUSH_INTERVAL_MS,
  normalizeClickHouseOptions, type ClickHouseCollectorOptions
} from './clickhouse/options.js'
import { jsonRow } from './clickhouse/table.js'
import { ClickHouseTransport } from './clickhouse/transport.js'
import { portableCollector } from './portable.js'
import { setWarehouseSource } from './warehouse/source.js'

export type { ClickHouseCollectorOptions } from './clickhouse/options.js'
export type { ClickHouseTableFlavour } from './clickhouse/table.js'
export type { IpPolicy } from '../privacy/ip.js'
export {
  DEFAULT_CLICKHOUSE_NAME, DEFAULT_CLICKHOUSE_TABLE, DEFAULT_CLICKHOUSE_DATABASE, DEFAULT_CLICKHOUSE_BATCH_SIZE,
  DEFAULT_CLICKHOUSE_FLUSH_INTERVAL_MS, DEFAULT_CLICKHOUSE_CONCURRENCY
} from './clickhouse/options.js'
export { clickhouseTableDDL } from './clickhouse/table.js'

/** Stores events in a ClickHouse table (JSONEachRow inserts). Create it with `clickhouseCollector()`. */
export class ClickHouseCollector extends WarehouseCollector {
  constructor (options: ClickHouseCollectorOptions) {
    const normalized = normalizeClickHouseOptions(options)
    super({
      name: normalized.name,
      origin: 'clickhouse:',
      batching: normalized.batching,
      events: normalized.events,
      defaults: {
        maxBatchSize: DEFAULT_CLICKHOUSE_BATCH_SIZE,
        flushIntervalMs: DEFAULT_CLICKHOUSE_FLUSH_INTERVAL_MS,
        concurrency: DEFAULT_CLICKHOUSE_CONCURRENCY
      },
      target: `${normalized.database}.${normalized.table}`,
      ip: normalized.ip,
      row: jsonRow,
      transport: (log) => new ClickHouseTransport({
        url: normalized.url,
        database: normalized.database,
        table: normalized.table,
        username: normalized.username,
        password: normalized.password,
        createTable: normalized.createTable
      }, log)
    })
    setWarehouseSource(this, {
      kind: 'clickhouse',
      table: normalized.table,
      url: normalized.url,
      database: normalized.database,
      username: normalized.username,
      password: normalized.password
    })
  }
}

/**
 * A collector that stores events in ClickHouse (`@clickhouse/client`, an optional peer dependency
 * loaded at start). Throws `FST_ANALYTICS_INVALID_OPTION` for options that cannot work.
 */
export function clickhouseCollector (options: ClickHouseCollectorOptions): ClickHouseCollector {
  return portableCollector(new ClickHouseCollector(options), 'collectors/clickhouse.js', 'clickhouseCollector', options)
}
