import type { AnalyticsEvent } from '../event.js'
import type { DeliveryAdapter, HttpResponse, PreparedBatch, Verdict } from '../batch/types.js'
import type { IpPolicy } from '../privacy/ip.js'
import { portableCollector } from './portable.js'
import { EngineCollector } from './engine-collector.js'
import { normalizeSegmentOptions, type SegmentCollectorOptions } from './segment/options.js'
import { encodeSegmentBatch, segmentMessage, type SegmentItem } from './segment/payload.js'
import { interpretSegmentResponse } from './segment/response.js'
import { SEGMENT_MAX_MESSAGE_BYTES } from './segment/limits.js'

export type { SegmentCollectorOptions } from './segment/options.js'
export type { SegmentMessage, SegmentContext, SegmentPage, SegmentCampaign } from './segment/payload.js'
export {
  DEFAULT_SEGMENT_ENDPOINT, DEFAULT_SEGMENT_NAME, DEFAULT_SEGMENT_BATCH_SIZE,
  DEFAULT_SEGMENT_FLUSH_INTERVAL_MS, DEFAULT_SEGMENT_CONCURRENCY
} from './segment/options.js'
export { SEGMENT_MAX_MESSAGE_BYTES, SEGMENT_MAX_BATCH_BYTES, SEGMENT_MAX_BATCH_MESSAGES } from './segment/limits.js'

/** Encodes batches; the Authorization header (with the write key) lives here, in a private field. */
class SegmentAdapter implements DeliveryAdapter<SegmentItem> {
  readonly #path: string
  readonly #headers: Record<string, string>

  constructor (path: string, authorization: string) {
    this.#path = path
    this.#headers = { 'content-type': 'application/json', authorization }
  }

  prepare (items: SegmentItem[]): PreparedBatch {
    return encodeSegmentBatch(items, this.#path, this.#headers)
  }

  interpret (response: HttpResponse): Verdict {
    return interpretSegmentResponse(response, 'the Segment API')
  }
}

/**
 * Sends events to the Segment HTTP Tracking API (`POST /v1/batch`), or to a Segment-compatible one
 * (RudderStack, Jitsu). Create it with `segmentCollector()`. The write key is kept in private
 * fields: it never shows in `util.inspect`, JSON or `stats()`.
 */
export class SegmentCollector extends EngineCollector<SegmentItem> {
  readonly #ip: IpPolicy

  constructor (options: SegmentCollectorOptions) {
    const normalized = normalizeSegmentOptions(options)
    super(normalized, () => new SegmentAdapter(normalized.path, normalized.authorization))
    this.#ip = normalized.ip
  }

  protected override itemBytes (item: SegmentItem): number {
    return item.bytes
  }

  /** Serializes the message once (no I/O); one over 32 KB is counted `rejected` and not sent. */
  collect (event: Readonly<AnalyticsEvent>): void {
    const message = segmentMessage(event, this.#ip)
    if (typeof message === 'string') {
      this.refuse('invalid', { reason: message }, 'analytics event not sent to Segment')
      return
    }
    const json = JSON.stringify(message)
    const bytes = Buffer.byteLength(json)
    if (bytes > SEGMENT_MAX_MESSAGE_BYTES) {
      this.reject('too-large', { bytes, limit: SEGMENT_MAX_MESSAGE_BYTES }, 'analytics event over the Segment API\'s 32 KB per message not sent (it would be refused)')
      return
    }
    this.enqueue({ json, bytes })
  }
}

/**
 * A collector for the Segment HTTP Tracking API and the Segment-compatible APIs of RudderStack
 * and Jitsu. Throws `FST_ANALYTICS_INVALID_OPTION` (never quoting the write key) for options that cannot work.
 */
export function segmentCollector (options: SegmentCollectorOptions): SegmentCollector {
  return portableCollector(new SegmentCollector(options), 'collectors/segment.js', 'segmentCollector', options)
}
