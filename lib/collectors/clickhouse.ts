import type { AnalyticsEvent } from '../event.js'
import type { CollectorContext } from '../collector.js'
import type { DeliveryAdapter, PreparedBatch } from '../batch/types.js'
import type { IpPolicy } from '../privacy/ip.js'
import { EngineCollector } from './engine-collector.js'
import { interpretStored, unstorable } from './warehouse/common.js'
import {
  DEFAULT_CLICKHOUSE_BATCH_SIZE, DEFAULT_CLICKHOUSE_CONCURRENCY, DEFAULT_CLICKHOUSE_FLUSH_INTERVAL_MS,
  normalizeClickHouseOptions, type ClickHouseCollectorOptions
} from './clickhouse/options.js'
import { jsonRow } from './clickhouse/table.js'
import { ClickHouseTransport } from './clickhouse/transport.js'

export type { ClickHouseCollectorOptions } from './clickhouse/options.js'
export type { ClickHouseTableFlavour } from './clickhouse/table.js'
export type { IpPolicy } from '../privacy/ip.js'
export {
  DEFAULT_CLICKHOUSE_NAME, DEFAULT_CLICKHOUSE_TABLE, DEFAULT_CLICKHOUSE_DATABASE, DEFAULT_CLICKHOUSE_BATCH_SIZE,
  DEFAULT_CLICKHOUSE_FLUSH_INTERVAL_MS, DEFAULT_CLICKHOUSE_CONCURRENCY
} from './clickhouse/options.js'
export { clickhouseTableDDL } from './clickhouse/table.js'

/** Joins the JSONEachRow lines written at collect time: one INSERT per batch. */
class JSONEachRowAdapter implements DeliveryAdapter<string> {
  readonly #table: string

  constructor (table: string) {
    this.#table = table
  }

  prepare (rows: string[]): PreparedBatch {
    return { requests: [{ path: this.#table, headers: {}, body: rows.join(''), events: rows.length }], invalid: 0 }
  }

  interpret = interpretStored
}

/** Stores events in a ClickHouse table (JSONEachRow inserts). Create it with `clickhouseCollector()`. */
export class ClickHouseCollector extends EngineCollector<string> {
  readonly #ip: IpPolicy
  readonly #transport: ClickHouseTransport

  constructor (options: ClickHouseCollectorOptions) {
    const normalized = normalizeClickHouseOptions(options)
    const transport = new ClickHouseTransport({
      url: normalized.url,
      database: normalized.database,
      table: normalized.table,
      username: normalized.username,
      password: normalized.password,
      createTable: normalized.createTable
    })
    super({
      name: normalized.name,
      origin: 'clickhouse:',
      batching: normalized.batching,
      defaults: {
        maxBatchSize: DEFAULT_CLICKHOUSE_BATCH_SIZE,
        flushIntervalMs: DEFAULT_CLICKHOUSE_FLUSH_INTERVAL_MS,
        concurrency: DEFAULT_CLICKHOUSE_CONCURRENCY
      }
    }, () => new JSONEachRowAdapter(`${normalized.database}.${normalized.table}`), () => transport)
    this.#ip = normalized.ip
    transport.limits = this.limits
    this.#transport = transport
  }

  override async start (signal: AbortSignal, context: CollectorContext): Promise<void> {
    await this.#transport.open(signal)
    super.start(signal, context)
  }

  collect (event: Readonly<AnalyticsEvent>): void {
    const reason = unstorable(event)
    if (reason !== undefined) {
      this.refuse('invalid', { id: event.id }, `${this.name}: ${reason}: event not stored`)
      return
    }
    this.enqueue(jsonRow(event, this.#ip))
  }
}

/**
 * A collector that stores events in ClickHouse (`@clickhouse/client`, an optional peer dependency
 * loaded at start). Throws `FST_ANALYTICS_INVALID_OPTION` for options that cannot work.
 */
export function clickhouseCollector (options: ClickHouseCollectorOptions): ClickHouseCollector {
  return new ClickHouseCollector(options)
}
