import type { AnalyticsEvent } from '../event.js'
import type { CollectorContext } from '../collector.js'
import type { DeliveryAdapter, PreparedBatch } from '../batch/types.js'
import type { IpPolicy } from '../privacy/ip.js'
import { EngineCollector } from './engine-collector.js'
import { interpretStored, unstorable } from './warehouse/common.js'
import {
  DEFAULT_POSTGRES_BATCH_SIZE, DEFAULT_POSTGRES_CONCURRENCY, DEFAULT_POSTGRES_FLUSH_INTERVAL_MS,
  normalizePostgresOptions, type PostgresCollectorOptions
} from './postgres/options.js'
import { copyRow } from './postgres/table.js'
import { PostgresTransport } from './postgres/transport.js'

export type { PostgresCollectorOptions, PostgresPool, PostgresPoolClient } from './postgres/options.js'
export type { IpPolicy } from '../privacy/ip.js'
export {
  DEFAULT_POSTGRES_NAME, DEFAULT_POSTGRES_TABLE, DEFAULT_POSTGRES_BATCH_SIZE, DEFAULT_POSTGRES_FLUSH_INTERVAL_MS,
  DEFAULT_POSTGRES_CONCURRENCY
} from './postgres/options.js'
export { postgresTableDDL, POSTGRES_COLUMNS } from './postgres/table.js'

/** Joins the COPY lines written at collect time: one transaction per batch. */
class CopyAdapter implements DeliveryAdapter<string> {
  readonly #table: string

  constructor (table: string) {
    this.#table = table
  }

  prepare (rows: string[]): PreparedBatch {
    return { requests: [{ path: this.#table, headers: {}, body: rows.join(''), events: rows.length }], invalid: 0 }
  }

  interpret = interpretStored
}

/** Stores events in a PostgreSQL table with COPY, idempotently on `id`. Create it with `postgresCollector()`. */
export class PostgresCollector extends EngineCollector<string> {
  readonly #ip: IpPolicy
  readonly #transport: PostgresTransport

  constructor (options: PostgresCollectorOptions) {
    const normalized = normalizePostgresOptions(options)
    let transport: PostgresTransport | undefined
    super({
      name: normalized.name,
      origin: 'postgres:',
      batching: normalized.batching,
      defaults: {
        maxBatchSize: DEFAULT_POSTGRES_BATCH_SIZE,
        flushIntervalMs: DEFAULT_POSTGRES_FLUSH_INTERVAL_MS,
        concurrency: DEFAULT_POSTGRES_CONCURRENCY
      }
    }, () => new CopyAdapter(normalized.table), (log) => {
      transport = new PostgresTransport({
        connectionString: normalized.connectionString,
        pool: normalized.pool,
        table: normalized.table,
        createTable: normalized.createTable
      }, log)
      return transport
    })
    this.#ip = normalized.ip
    this.#transport = transport as unknown as PostgresTransport
    // The engine resolved the defaults: the pool gets one connection per concurrent batch.
    this.#transport.limits = this.limits
  }

  override async start (signal: AbortSignal, context: CollectorContext): Promise<void> {
    this.log.log = context.log
    await this.#transport.open(signal)
    super.start(signal, context)
  }

  collect (event: Readonly<AnalyticsEvent>): void {
    const reason = unstorable(event)
    if (reason !== undefined) {
      this.refuse('invalid', { id: event.id }, `${this.name}: ${reason}: event not stored`)
      return
    }
    this.enqueue(copyRow(event, this.#ip))
  }
}

/**
 * A collector that stores events in PostgreSQL (`pg` + `pg-copy-streams`, optional peer
 * dependencies loaded at start). Throws `FST_ANALYTICS_INVALID_OPTION` for options that cannot work.
 */
export function postgresCollector (options: PostgresCollectorOptions): PostgresCollector {
  return new PostgresCollector(options)
}
