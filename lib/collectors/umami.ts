import type { AnalyticsEvent } from '../event.js'
import type { DeliveryAdapter, HttpResponse, OutgoingRequest, PreparedBatch, Verdict } from '../batch/types.js'
import { defaultInterpret } from '../batch/verdict.js'
import type { IpPolicy } from '../privacy/ip.js'
import { portableCollector } from './portable.js'
import { EngineCollector } from './engine-collector.js'
import { normalizeUmamiOptions, type UmamiCollectorOptions } from './umami/options.js'
import { umamiRequest } from './umami/payload.js'
import { interpretUmamiResponse } from './umami/response.js'

export type { UmamiCollectorOptions } from './umami/options.js'
export type { UmamiBody, UmamiPayload } from './umami/payload.js'
export {
  DEFAULT_UMAMI_NAME, DEFAULT_UMAMI_IP_HEADER, DEFAULT_UMAMI_BATCH_SIZE,
  DEFAULT_UMAMI_FLUSH_INTERVAL_MS, DEFAULT_UMAMI_CONCURRENCY
} from './umami/options.js'

class UmamiAdapter implements DeliveryAdapter<OutgoingRequest> {
  // Requests are built at collect (the event is only ours during that call): nothing left to do.
  prepare (items: OutgoingRequest[]): PreparedBatch {
    return { requests: items, invalid: 0 }
  }

  interpret (response: HttpResponse, request: OutgoingRequest): Verdict {
    return interpretUmamiResponse(response, request, defaultInterpret)
  }
}

/** Sends events to Umami's `POST /api/send`, one request per event. Create it with `umamiCollector()`. */
export class UmamiCollector extends EngineCollector<OutgoingRequest> {
  readonly #websiteId: string
  readonly #path: string
  readonly #ip: IpPolicy
  readonly #ipHeader: string

  constructor (options: UmamiCollectorOptions) {
    const normalized = normalizeUmamiOptions(options)
    super(normalized, () => new UmamiAdapter())
    this.#websiteId = normalized.websiteId
    this.#path = normalized.path
    this.#ip = normalized.ip
    this.#ipHeader = normalized.ipHeader
  }

  /** The request's body, path and header values: all it holds that grows with the event. */
  protected override itemBytes (request: OutgoingRequest): number {
    let bytes = request.path.length + (typeof request.body === 'string' ? request.body.length : request.body.byteLength)
    for (const key in request.headers) bytes += key.length + request.headers[key].length
    return bytes
  }

  collect (event: Readonly<AnalyticsEvent>): void {
    const request = umamiRequest(event, this.#path, this.#websiteId, this.#ip, this.#ipHeader)
    if (typeof request === 'string') {
      this.refuse('invalid', { reason: request }, 'analytics event not sent to Umami')
      return
    }
    this.enqueue(request)
  }
}

/**
 * A collector for Umami's `POST /api/send` (self-hosted or Umami Cloud), one request per event.
 * Throws `FST_ANALYTICS_INVALID_OPTION` for options that cannot work.
 */
export function umamiCollector (options: UmamiCollectorOptions): UmamiCollector {
  return portableCollector(new UmamiCollector(options), 'collectors/umami.js', 'umamiCollector', options)
}
