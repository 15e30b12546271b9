import type { AnalyticsEvent } from '../event.js'
import type { DeliveryAdapter, HttpResponse, OutgoingRequest, PreparedBatch, Verdict } from '../batch/types.js'
import { defaultInterpret } from '../batch/verdict.js'
import type { IpPolicy } from '../privacy/ip.js'
import { portableCollector } from './portable.js'
import { EngineCollector } from './engine-collector.js'
import { gzipRequests, jsonArrayBody, splitRuns } from './gzip.js'
import { MIXPANEL_MAX_EVENT_BYTES, MIXPANEL_MAX_EVENTS_PER_REQUEST, MIXPANEL_MAX_REQUEST_BYTES } from './mixpanel/limits.js'
import { normalizeMixpanelOptions, type MixpanelCollectorOptions } from './mixpanel/options.js'
import { mixpanelEvent } from './mixpanel/payload.js'
import { interpretMixpanelResponse } from './mixpanel/response.js'

export type { MixpanelCollectorOptions, MixpanelBaseOptions, MixpanelServiceAccount } from './mixpanel/options.js'
export type { MixpanelEvent } from './mixpanel/payload.js'
export {
  DEFAULT_MIXPANEL_NAME, DEFAULT_MIXPANEL_BATCH_SIZE, DEFAULT_MIXPANEL_FLUSH_INTERVAL_MS, DEFAULT_MIXPANEL_CONCURRENCY, MIXPANEL_ORIGINS
} from './mixpanel/options.js'
export { MIXPANEL_MAX_EVENTS_PER_REQUEST, MIXPANEL_MAX_REQUEST_BYTES, MIXPANEL_MAX_EVENT_BYTES } from './mixpanel/limits.js'

/**
 * Joins a batch of event JSON texts into `/import` requests within Mixpanel's limits (2000 events,
 * 2 MB uncompressed), gzipped off the event loop. The Authorization value lives here, in a private
 * field, and in the requests' headers: never in the engine's options or the collector's fields.
 */
class MixpanelAdapter implements DeliveryAdapter<string> {
  readonly #path: string
  readonly #headers: Record<string, string>

  constructor (path: string, authorization: string) {
    this.#path = path
    this.#headers = { 'content-type': 'application/json', 'user-agent': 'fastify-analytics', authorization }
  }

  prepare (items: string[]): Promise<PreparedBatch> {
    const bytes = new Array<number>(items.length)
    const runs = splitRuns(items, bytes, MIXPANEL_MAX_EVENTS_PER_REQUEST, MIXPANEL_MAX_REQUEST_BYTES, 2)
    const requests: OutgoingRequest[] = runs.map(([start, end]) => ({
      path: this.#path,
      headers: { ...this.#headers },
      body: jsonArrayBody(items, bytes, start, end),
      events: end - start
    }))
    return gzipRequests(requests).then((gzipped) => ({ requests: gzipped, invalid: 0 }))
  }

  interpret (response: HttpResponse, request: OutgoingRequest): Verdict {
    return interpretMixpanelResponse(response, request, defaultInterpret)
  }
}

/**
 * Sends events to Mixpanel's `/import` API. Create it with `mixpanelCollector()`. The credentials
 * stay in the adapter: they never show in `util.inspect`, JSON or `stats()`.
 */
export class MixpanelCollector extends EngineCollector<string> {
  readonly #token: string
  readonly #ip: IpPolicy

  constructor (options: MixpanelCollectorOptions) {
    const normalized = normalizeMixpanelOptions(options)
    super(normalized, () => new MixpanelAdapter(normalized.path, normalized.authorization))
    this.#token = normalized.token
    this.#ip = normalized.ip
  }

  /** Serialises the event once (a snapshot owning nothing of it); prepare only joins the texts. */
  collect (event: Readonly<AnalyticsEvent>): void {
    const built = mixpanelEvent(event, this.#token, this.#ip, Date.now())
    if (typeof built === 'string') {
      this.refuse('invalid', { reason: built }, 'analytics event not sent to Mixpanel')
      return
    }
    const json = JSON.stringify(built)
    // UTF-8 takes 1–3 bytes per UTF-16 unit: measure only when the length alone cannot decide.
    if (json.length * 3 > MIXPANEL_MAX_EVENT_BYTES && (json.length > MIXPANEL_MAX_EVENT_BYTES || Buffer.byteLength(json) > MIXPANEL_MAX_EVENT_BYTES)) {
      this.refuse('too-large', { bytes: Buffer.byteLength(json) }, 'analytics event larger than Mixpanel takes (1 MB): not sent')
      return
    }
    this.enqueue(json)
  }
}

/**
 * A collector for Mixpanel's `/import` API (`POST {endpoint}/import?strict=1`), in batches of up to
 * 2000 events. Throws `FST_ANALYTICS_INVALID_OPTION` (naming the option, never quoting a secret) for
 * options that cannot work.
 */
export function mixpanelCollector (options: MixpanelCollectorOptions): MixpanelCollector {
  return portableCollector(new MixpanelCollector(options), 'collectors/mixpanel.js', 'mixpanelCollector', options)
}
