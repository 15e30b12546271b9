import type { AnalyticsEvent } from '../event.js'
import { eventJSONString } from '../event-json.js'
import { portableCollector } from './portable.js'
import type { IpPolicy } from '../privacy/index.js'
import { EngineCollector } from './engine-collector.js'
import { ENVELOPE_BYTES, WebhookAdapter } from './webhook/body.js'
import { normalizeWebhookOptions, type WebhookCollectorOptions } from './webhook/options.js'

export type { WebhookCollectorOptions } from './webhook/options.js'
export type { WebhookBody } from './webhook/body.js'
export {
  DEFAULT_WEBHOOK_NAME, DEFAULT_WEBHOOK_BATCH_SIZE, DEFAULT_WEBHOOK_FLUSH_INTERVAL_MS, DEFAULT_WEBHOOK_CONCURRENCY,
  DEFAULT_WEBHOOK_TIMEOUT_MS, DEFAULT_WEBHOOK_MAX_BODY_BYTES
} from './webhook/options.js'

/** POSTs batches of events as JSON to a URL, signed per Standard Webhooks. Create it with `webhookCollector()`. */
export class WebhookCollector extends EngineCollector<string> {
  readonly #maxEventBytes: number
  readonly #ip: IpPolicy

  constructor (options: WebhookCollectorOptions) {
    const normalized = normalizeWebhookOptions(options)
    super(normalized, () => new WebhookAdapter(normalized.path, normalized.headers, normalized.key, normalized.maxBodyBytes))
    this.#maxEventBytes = normalized.maxBodyBytes - ENVELOPE_BYTES
    this.#ip = normalized.ip
  }

  collect (event: Readonly<AnalyticsEvent>): void {
    // Serialised once per event (shared with stdout under the same ip policy): the queue holds a
    // string (a snapshot that owns nothing of the event) and prepare only joins strings.
    const json = eventJSONString(event, this.#ip)
    // UTF-8 takes 1–3 bytes per UTF-16 unit: measure only when the length alone cannot decide.
    if (json.length * 3 > this.#maxEventBytes && (json.length > this.#maxEventBytes || Buffer.byteLength(json) > this.#maxEventBytes)) {
      this.refuse('invalid', { bytes: Buffer.byteLength(json), maxBodyBytes: this.#maxEventBytes + ENVELOPE_BYTES }, 'analytics event too large for one webhook body: not sent')
      return
    }
    this.enqueue(json)
  }
}

/**
 * A collector that POSTs `{ id, schema: 1, sentAt, events }` batches to `url`.
 * Throws `FST_ANALYTICS_INVALID_OPTION` for options that cannot work.
 */
export function webhookCollector (options: WebhookCollectorOptions): WebhookCollector {
  return portableCollector(new WebhookCollector(options), 'collectors/webhook.js', 'webhookCollector', options)
}
