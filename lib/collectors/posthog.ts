import type { AnalyticsEvent } from '../event.js'
import type { DeliveryAdapter, HttpResponse, OutgoingRequest, PreparedBatch, Verdict } from '../batch/types.js'
import { defaultInterpret } from '../batch/verdict.js'
import type { IpPolicy } from '../privacy/ip.js'
import { portableCollector } from './portable.js'
import { EngineCollector } from './engine-collector.js'
import { gzipRequests, jsonArrayBody, splitRuns } from './gzip.js'
import { POSTHOG_MAX_EVENT_BYTES, POSTHOG_MAX_REQUEST_BYTES } from './posthog/limits.js'
import { normalizePosthogOptions, type PosthogCollectorOptions } from './posthog/options.js'
import { posthogEvent } from './posthog/payload.js'
import { interpretPosthogResponse } from './posthog/response.js'

export type { PosthogCollectorOptions } from './posthog/options.js'
export type { PosthogEvent } from './posthog/payload.js'
export {
  DEFAULT_POSTHOG_NAME, DEFAULT_POSTHOG_HOST, DEFAULT_POSTHOG_BATCH_SIZE, DEFAULT_POSTHOG_FLUSH_INTERVAL_MS, DEFAULT_POSTHOG_CONCURRENCY
} from './posthog/options.js'
export { POSTHOG_MAX_REQUEST_BYTES, POSTHOG_MAX_EVENT_BYTES } from './posthog/limits.js'

/**
 * Wraps a batch of event JSON texts in `{"api_key":…,"batch":[…]}` bodies within
 * PostHog's 20 MB, gzipped off the event loop. The key lives in this private field and the bodies.
 */
class PosthogAdapter implements DeliveryAdapter<string> {
  readonly #path: string
  readonly #keyJson: string

  constructor (path: string, apiKey: string) {
    this.#path = path
    this.#keyJson = JSON.stringify(apiKey)
  }

  prepare (items: string[]): Promise<PreparedBatch> {
    // No `sent_at` (posthog-node sends one): PostHog would shift every timestamp by now − sent_at,
    // which a browser's wrong clock needs, but a retry re-sends the same bytes, so a batch retried
    // after a 30 s Retry-After would land 30 s late. A server's clock is NTP's: its timestamps stand.
    const head = `{"api_key":${this.#keyJson},"batch":[`
    const bytes = new Array<number>(items.length)
    const runs = splitRuns(items, bytes, items.length, POSTHOG_MAX_REQUEST_BYTES, Buffer.byteLength(head) + 2)
    const requests: OutgoingRequest[] = runs.map(([start, end]) => ({
      path: this.#path,
      headers: { 'content-type': 'application/json', 'user-agent': 'fastify-analytics' },
      body: jsonArrayBody(items, bytes, start, end, head, ']}'),
      events: end - start
    }))
    return gzipRequests(requests).then((gzipped) => ({ requests: gzipped, invalid: 0 }))
  }

  interpret (response: HttpResponse, request: OutgoingRequest): Verdict {
    return interpretPosthogResponse(response, request, defaultInterpret)
  }
}

/** Sends events to PostHog's batch capture API. Create it with `posthogCollector()`. */
export class PosthogCollector extends EngineCollector<string> {
  readonly #ip: IpPolicy

  constructor (options: PosthogCollectorOptions) {
    const normalized = normalizePosthogOptions(options)
    super(normalized, () => new PosthogAdapter(normalized.path, normalized.apiKey))
    this.#ip = normalized.ip
  }

  /** Serialises the event once (a snapshot owning nothing of it); prepare only joins the texts. */
  collect (event: Readonly<AnalyticsEvent>): void {
    const built = posthogEvent(event, this.#ip)
    if (typeof built === 'string') {
      this.refuse('invalid', { reason: built }, 'analytics event not sent to PostHog')
      return
    }
    const json = JSON.stringify(built)
    if (json.length * 3 > POSTHOG_MAX_EVENT_BYTES && (json.length > POSTHOG_MAX_EVENT_BYTES || Buffer.byteLength(json) > POSTHOG_MAX_EVENT_BYTES)) {
      this.refuse('too-large', { bytes: Buffer.byteLength(json) }, 'analytics event larger than PostHog takes (1 MB): not sent')
      return
    }
    this.enqueue(json)
  }
}

/**
 * A collector for PostHog's batch capture API (`POST {host}/batch/`). Throws
 * `FST_ANALYTICS_INVALID_OPTION` (naming the option, never quoting the key) for options that cannot work.
 */
export function posthogCollector (options: PosthogCollectorOptions): PosthogCollector {
  return portableCollector(new PosthogCollector(options), 'collectors/posthog.js', 'posthogCollector', options)
}
