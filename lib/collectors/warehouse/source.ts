import type { PostgresPool } from '../postgres/options.js'
import type { DuckDBInstanceLike } from '../duckdb/driver.js'

/**
 * Where a warehouse collector stores its events, for a reader in the same process (the dashboard):
 * the table, and what it needs to reach it. Kept in a WeakMap, not on the collector, so the
 * connection string and password never show in `util.inspect` or a spread of the collector.
 */
export type WarehouseSource =
  | { kind: 'duckdb', path: string, table: string, instance: () => DuckDBInstanceLike | undefined }
  | { kind: 'postgres', table: string, connectionString: string | undefined, pool: PostgresPool | undefined }
  | { kind: 'clickhouse', table: string, url: string, database: string, username: string, password: string }

const sources = new WeakMap<object, WarehouseSource>()

export function setWarehouseSource (collector: object, source: WarehouseSource): void {
  sources.set(collector, source)
}

/** The store of a built-in warehouse collector, or undefined for any other object. */
export function warehouseSource (collector: unknown): WarehouseSource | undefined {
  return typeof collector === 'object' && collector !== null ? sources.get(collector) : undefined
}
