import { WarehouseCollector } from './warehouse/collector.js'
import {
  DEFAULT_POSTGRES_BATCH_SIZE, DEFAULT_POSTGRES_CONCURRENCY, DEFAULT_POSTGRES_FLUSH_INTERVAL_MS,
  normalizePostgresOptions, type PostgresCollectorOptions
} from './postgres/options.js'
import { copyRow } from './postgres/table.js'
import { PostgresTransport } from './postgres/transport.js'
import { portableCollector } from './portable.js'
import { setWarehouseSource } from './warehouse/source.js'

export type { PostgresCollectorOptions, PostgresCommonOptions, PostgresConnectionStringOptions, PostgresPoolOptions, PostgresPool, PostgresPoolClient } from './postgres/options.js'
export type { IpPolicy } from '../privacy/ip.js'
export {
  DEFAULT_POSTGRES_NAME, DEFAULT_POSTGRES_TABLE, DEFAULT_POSTGRES_BATCH_SIZE, DEFAULT_POSTGRES_FLUSH_INTERVAL_MS,
  DEFAULT_POSTGRES_CONCURRENCY
} from './postgres/options.js'
export { postgresTableDDL, POSTGRES_COLUMNS } from './postgres/table.js'

/** Stores events in a PostgreSQL table with COPY, idempotently on `id`. Create it with `postgresCollector()`. */
export class PostgresCollector extends WarehouseCollector {
  constructor (options: PostgresCollectorOptions) {
    const normalized = normalizePostgresOptions(options)
    super({
      name: normalized.name,
      origin: 'postgres:',
      batching: normalized.batching,
      events: normalized.events,
      defaults: {
        maxBatchSize: DEFAULT_POSTGRES_BATCH_SIZE,
        flushIntervalMs: DEFAULT_POSTGRES_FLUSH_INTERVAL_MS,
        concurrency: DEFAULT_POSTGRES_CONCURRENCY
      },
      target: normalized.table,
      ip: normalized.ip,
      row: copyRow,
      transport: (log) => new PostgresTransport({
        connectionString: normalized.connectionString,
        pool: normalized.pool,
        table: normalized.table,
        createTable: normalized.createTable
      }, log)
    })
    setWarehouseSource(this, { kind: 'postgres', table: normalized.table, connectionString: normalized.connectionString, pool: normalized.pool })
  }
}

/**
 * A collector that stores events in PostgreSQL (`pg` + `pg-copy-streams`, optional peer
 * dependencies loaded at start). Throws `FST_ANALYTICS_INVALID_OPTION` for options that cannot work.
 */
export function postgresCollector (options: PostgresCollectorOptions): PostgresCollector {
  return portableCollector(new PostgresCollector(options), 'collectors/postgres.js', 'postgresCollector', options)
}
