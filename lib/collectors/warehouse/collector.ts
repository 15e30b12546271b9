import type { CollectorContext } from '../../collector.js'
import type { AnalyticsEvent } from '../../event.js'
import type { DeliveryAdapter, DeliveryTransport, PreparedBatch } from '../../batch/types.js'
import type { RateLimitedLog } from '../../log.js'
import type { IpPolicy } from '../../privacy/ip.js'
import { EngineCollector, type EngineWiring } from '../engine-collector.js'
import { interpretStored, unstorable, type TimeRange } from './common.js'

/** A database client the engine sends batches through: opened at start, sized by the engine's limits. */
export interface WarehouseTransport extends DeliveryTransport {
  limits: { concurrency: number, timeoutMs: number }
  /** The instants the table's time columns hold, known once `open` has looked at the table. */
  readonly timeRange: TimeRange
  open (signal: AbortSignal): Promise<void>
}

/** How one database stores events: where, how a row is written, and the client that sends them. */
export interface WarehouseWiring extends EngineWiring {
  /** The table the batch goes to (the transport reads it from the request's `path`). */
  target: string
  ip: IpPolicy
  /** One row, written at collect time: the queue holds strings that own nothing of the event. */
  row: (event: Readonly<AnalyticsEvent>, ip: IpPolicy) => string
  transport: (log: RateLimitedLog) => WarehouseTransport
}

/** Joins the rows written at collect time: one request (one transaction, one INSERT) per batch. */
class RowsAdapter implements DeliveryAdapter<string> {
  readonly #target: string

  constructor (target: string) {
    this.#target = target
  }

  prepare (rows: string[]): PreparedBatch {
    return { requests: [{ path: this.#target, headers: {}, body: rows.join(''), events: rows.length }], invalid: 0 }
  }

  interpret = interpretStored
}

/** What the PostgreSQL and ClickHouse collectors share: rows at collect, the client opened at start. */
export class WarehouseCollector extends EngineCollector<string> {
  readonly #ip: IpPolicy
  readonly #row: WarehouseWiring['row']
  readonly #transport: WarehouseTransport

  constructor (wiring: WarehouseWiring) {
    let transport: WarehouseTransport | undefined
    super(wiring, () => new RowsAdapter(wiring.target), (log) => {
      transport = wiring.transport(log)
      return transport
    })
    this.#ip = wiring.ip
    this.#row = wiring.row
    // Built by the engine's constructor, inside super(), with the collector's log.
    this.#transport = transport as WarehouseTransport
    // The engine resolved the defaults: the pool gets one connection per concurrent batch.
    this.#transport.limits = this.limits
  }

  override async start (signal: AbortSignal, context: CollectorContext): Promise<void> {
    this.log.log = context.log
    await this.#transport.open(signal)
    super.start(signal, context)
  }

  collect (event: Readonly<AnalyticsEvent>): void {
    const reason = unstorable(event, this.#transport.timeRange)
    if (reason !== undefined) {
      this.refuse('invalid', { id: event.id }, `${this.name}: ${reason}: event not stored`)
      return
    }
    this.enqueue(this.#row(event, this.#ip))
  }
}
