import type { AnalyticsEvent } from '../event.js'
import type { DeliveryAdapter, HttpResponse, OutgoingRequest, PreparedBatch, Verdict } from '../batch/types.js'
import { defaultInterpret } from '../batch/verdict.js'
import { portableCollector } from './portable.js'
import type { IpPolicy } from '../privacy/ip.js'
import { EngineCollector } from './engine-collector.js'
import { normalizePlausibleOptions, type PlausibleCollectorOptions } from './plausible/options.js'
import { plausibleRequest } from './plausible/payload.js'
import { interpretPlausibleResponse } from './plausible/response.js'

export type { PlausibleCollectorOptions } from './plausible/options.js'
export {
  DEFAULT_PLAUSIBLE_BASE_URL, DEFAULT_PLAUSIBLE_NAME, DEFAULT_PLAUSIBLE_BATCH_SIZE,
  DEFAULT_PLAUSIBLE_FLUSH_INTERVAL_MS, DEFAULT_PLAUSIBLE_CONCURRENCY
} from './plausible/options.js'

class PlausibleAdapter implements DeliveryAdapter<OutgoingRequest> {
  // Requests are built at collect (the event is only ours during that call): nothing left to do.
  prepare (items: OutgoingRequest[]): PreparedBatch {
    return { requests: items, invalid: 0 }
  }

  interpret (response: HttpResponse, request: OutgoingRequest): Verdict {
    return interpretPlausibleResponse(response, request, defaultInterpret)
  }
}

/** Sends events to Plausible's Events API. Create it with `plausibleCollector()`. */
export class PlausibleCollector extends EngineCollector<OutgoingRequest> {
  readonly #domain: string
  readonly #sites: readonly string[]
  readonly #path: string
  readonly #ip: IpPolicy

  constructor (options: PlausibleCollectorOptions) {
    const normalized = normalizePlausibleOptions(options)
    super(normalized, () => new PlausibleAdapter())
    this.#domain = normalized.domain
    this.#sites = normalized.sites
    this.#path = normalized.path
    this.#ip = normalized.ip
  }

  /** The request's body, path and header values: all it holds that grows with the event. */
  protected override itemBytes (request: OutgoingRequest): number {
    let bytes = request.path.length + (typeof request.body === 'string' ? request.body.length : request.body.byteLength)
    for (const key in request.headers) bytes += key.length + request.headers[key].length
    return bytes
  }

  collect (event: Readonly<AnalyticsEvent>): void {
    const request = plausibleRequest(event, this.#path, this.#domain, this.#sites, this.#ip)
    if (typeof request === 'string') {
      this.refuse('invalid', { reason: request }, 'analytics event not sent to Plausible')
      return
    }
    this.enqueue(request)
  }
}

/**
 * A collector for Plausible's Events API (`POST {baseUrl}/api/event`), one request per event.
 * Throws `FST_ANALYTICS_INVALID_OPTION` for options that cannot work.
 */
export function plausibleCollector (options: PlausibleCollectorOptions): PlausibleCollector {
  return portableCollector(new PlausibleCollector(options), 'collectors/plausible.js', 'plausibleCollector', options)
}
