import { DROP_REASONS, type DeliveryReport } from '../../lib/collector.js'
import { DeliveryEngine } from '../../lib/batch/engine.js'
import type { DeliveryEngineOptions } from '../../lib/batch/settings.js'
import type { DeliveryAdapter, OutgoingRequest } from '../../lib/batch/types.js'
import { logCapture } from './collectors.js'
import { startSink, type ReceivedRequest, type Sink, type SinkOptions } from './sink.js'

/** Items the test adapter sends: a number each, so bodies show exactly which items a request held. */
export type Item = number

import type { TapTest } from './collectors.js'
export type { TapTest }

/** One request per batch: `{"items":[…]}` with an idempotency key, as a webhook collector would. */
export function batchAdapter (path = '/collect'): DeliveryAdapter<Item> & { prepared: Item[][] } {
  const prepared: Item[][] = []
  let id = 0
  return {
    prepared,
    prepare (items: Item[]) {
      prepared.push(items)
      const request: OutgoingRequest = {
        path,
        headers: { 'content-type': 'application/json', 'idempotency-key': `batch-${++id}` },
        body: JSON.stringify({ items }),
        events: items.length
      }
      return { requests: [request], invalid: 0 }
    }
  }
}

/** One request per item, as Plausible does. */
export function perItemAdapter (path = '/event'): DeliveryAdapter<Item> {
  return {
    prepare (items: Item[]) {
      return {
        requests: items.map((item) => ({
          path,
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ item }),
          events: 1
        })),
        invalid: 0
      }
    }
  }
}

/** The items a request received by the sink carried (either adapter). */
export function itemsOf (request: ReceivedRequest): Item[] {
  const body = JSON.parse(request.body.toString('utf8')) as { items?: Item[], item?: Item }
  return body.items ?? [body.item as Item]
}

/** Tiny delays so the whole folder stays fast. */
export const FAST = {
  maxBatchSize: 10,
  flushIntervalMs: 20,
  concurrency: 2,
  timeoutMs: 2000,
  retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3 }
}

export type HarnessOptions = Partial<DeliveryEngineOptions<Item>> & { origin: string }

/** A DeliveryEngine that also counts what it was given, to check the accounting invariant. */
export class Harness {
  readonly engine: DeliveryEngine<Item>
  received = 0

  constructor (options: HarnessOptions) {
    this.engine = new DeliveryEngine<Item>({
      name: 'test',
      adapter: batchAdapter(),
      defaults: { maxBatchSize: 10, flushIntervalMs: 1000, concurrency: 2 },
      ...FAST,
      ...options
    })
  }

  enqueue (from: number, count = 1): void {
    for (let i = 0; i < count; i++) {
      this.received++
      this.engine.enqueue(from + i)
    }
  }

  drop (reason: Parameters<DeliveryEngine<Item>['drop']>[0], count?: number): void {
    this.received += count ?? 1
    this.engine.drop(reason, count)
  }

  stats (): DeliveryReport {
    return this.engine.stats()
  }

  /** received = delivered + Σ dropped + queued + inFlight, with every figure a non-negative integer. */
  balance (): { ok: boolean, received: number, accounted: number, stats: DeliveryReport } {
    const stats = this.engine.stats()
    let accounted = stats.delivered + stats.queued + stats.inFlight
    let ok = [stats.delivered, stats.queued, stats.inFlight, stats.retries].every((n) => Number.isSafeInteger(n) && n >= 0)
    for (const reason of DROP_REASONS) {
      const n = stats.dropped[reason] ?? 0
      ok &&= Number.isSafeInteger(n) && n >= 0
      accounted += n
    }
    return { ok: ok && accounted === this.received, received: this.received, accounted, stats }
  }
}

/** Asserts the accounting invariant (and, once closed, that nothing is left queued or in flight). */
export function checkBalance (t: TapTest, harness: Harness, closed = false): void {
  const { ok, received, accounted, stats } = harness.balance()
  t.ok(ok, `received ${received} = delivered + Σ dropped + queued + inFlight (${accounted})`, { stats })
  if (closed) t.match(stats, { queued: 0, inFlight: 0 }, 'nothing queued or in flight after close')
}

export const sleep = async (ms: number): Promise<void> => await new Promise((resolve) => setTimeout(resolve, ms))

/** A signal that never fires. */
export const never = (): AbortSignal => new AbortController().signal

/** Polls until `predicate` holds (or fails after `timeoutMs`). */
export async function until (predicate: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const start = Date.now()
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

/**
 * A sink and a started engine pointed at it, both torn down after the test (the engine first:
 * tap runs teardowns last-in-first-out).
 */
export async function setup (
  t: TapTest,
  engineOptions: Partial<HarnessOptions> = {},
  sinkOptions: SinkOptions = {}
): Promise<{ sink: Sink, h: Harness, logs: ReturnType<typeof logCapture> }> {
  const sink = await startSink(sinkOptions)
  t.teardown(() => sink.close())
  const h = new Harness({ origin: sink.origin, ...engineOptions })
  t.teardown(() => h.engine.close(AbortSignal.timeout(200)))
  const logs = logCapture()
  h.engine.start(never(), logs.log)
  return { sink, h, logs }
}
