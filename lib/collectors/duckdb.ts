import { WarehouseCollector } from './warehouse/collector.js'
import {
  DEFAULT_DUCKDB_BATCH_SIZE, DEFAULT_DUCKDB_CONCURRENCY, DEFAULT_DUCKDB_FLUSH_INTERVAL_MS,
  normalizeDuckDBOptions, type DuckDBCollectorOptions
} from './duckdb/options.js'
import { duckdbRow } from './duckdb/table.js'
import { DuckDBTransport } from './duckdb/transport.js'
import { setWarehouseSource } from './warehouse/source.js'

export type { DuckDBCollectorOptions } from './duckdb/options.js'
export type { IpPolicy } from '../privacy/ip.js'
export {
  DEFAULT_DUCKDB_NAME, DEFAULT_DUCKDB_TABLE, DEFAULT_DUCKDB_BATCH_SIZE, DEFAULT_DUCKDB_FLUSH_INTERVAL_MS,
  DEFAULT_DUCKDB_CONCURRENCY
} from './duckdb/options.js'
export { duckdbTableDDL, DUCKDB_COLUMNS } from './duckdb/table.js'

/**
 * Stores events in an embedded DuckDB file through its appender. Create it with `duckdbCollector()`.
 * It always runs on the request thread, also with `delivery: 'worker'`: the process that owns a
 * DuckDB file must open it once, and the dashboard reads through the same database.
 */
export class DuckDBCollector extends WarehouseCollector {
  constructor (options: DuckDBCollectorOptions) {
    const normalized = normalizeDuckDBOptions(options)
    let transport: DuckDBTransport | undefined
    super({
      name: normalized.name,
      origin: 'duckdb:',
      batching: normalized.batching,
      events: normalized.events,
      defaults: {
        maxBatchSize: DEFAULT_DUCKDB_BATCH_SIZE,
        flushIntervalMs: DEFAULT_DUCKDB_FLUSH_INTERVAL_MS,
        concurrency: DEFAULT_DUCKDB_CONCURRENCY
      },
      target: normalized.table,
      ip: normalized.ip,
      row: duckdbRow,
      transport: (log) => {
        transport = new DuckDBTransport({ path: normalized.path, table: normalized.table, createTable: normalized.createTable }, log)
        return transport
      }
    })
    const opened = transport as DuckDBTransport
    setWarehouseSource(this, { kind: 'duckdb', path: normalized.path, table: normalized.table, instance: () => opened.instance })
  }
}

/**
 * A collector that stores events in an embedded DuckDB file (`@duckdb/node-api`, an optional peer
 * dependency loaded at start). Throws `FST_ANALYTICS_INVALID_OPTION` for options that cannot work;
 * `ready()` fails with `FST_ANALYTICS_START_FAILED` when another process holds the file.
 */
export function duckdbCollector (options: DuckDBCollectorOptions): DuckDBCollector {
  return new DuckDBCollector(options)
}
