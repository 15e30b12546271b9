import { randomUUID, type KeyObject } from 'node:crypto'
import type { AnalyticsEventJSON } from '../../event.js'
import type { DeliveryAdapter, OutgoingRequest, PreparedBatch } from '../../batch/types.js'
import { signWebhook } from './sign.js'

/** The body of every webhook request (schema/webhook-body.schema.json). */
export interface WebhookBody {
  /** A random UUID per request; also the `webhook-id` header. The same on every retry. */
  id: string
  schema: 1
  /** When the request was first sent (ISO 8601). */
  sentAt: string
  events: AnalyticsEventJSON[]
}

/** The bytes of a body around its events: `{"id":"<36>","schema":1,"sentAt":"<24>","events":[` … `]}` */
export const ENVELOPE_BYTES = 104

/** Encodes batches of pre-serialised events (one JSON string each) into signed requests. */
export class WebhookAdapter implements DeliveryAdapter<string> {
  readonly #path: string
  readonly #headers: Record<string, string>
  readonly #key: KeyObject | undefined
  readonly #maxBodyBytes: number

  constructor (path: string, headers: Record<string, string>, key: KeyObject | undefined, maxBodyBytes: number) {
    this.#path = path
    this.#headers = { 'content-type': 'application/json', 'user-agent': 'fastify-analytics', ...headers }
    this.#key = key
    this.#maxBodyBytes = maxBodyBytes
  }

  prepare (items: string[]): PreparedBatch {
    const requests: OutgoingRequest[] = []
    let start = 0
    let size = ENVELOPE_BYTES
    for (let i = 0; i < items.length; i++) {
      // Every item fits an envelope on its own (collect refused bigger ones): split before it overflows.
      const bytes = Buffer.byteLength(items[i]) + 1
      if (i > start && size + bytes > this.#maxBodyBytes) {
        requests.push(this.#request(items, start, i))
        start = i
        size = ENVELOPE_BYTES
      }
      size += bytes
    }
    if (start < items.length) requests.push(this.#request(items, start, items.length))
    return { requests, invalid: 0 }
  }

  #request (items: string[], start: number, end: number): OutgoingRequest {
    // Built once and re-sent byte for byte: the id (an idempotency key for receivers), sentAt and
    // the signed timestamp stay those of the first attempt.
    const id = randomUUID()
    const now = new Date()
    const events = start === 0 && end === items.length ? items.join(',') : items.slice(start, end).join(',')
    const body = `{"id":"${id}","schema":1,"sentAt":"${now.toISOString()}","events":[${events}]}`
    const headers: Record<string, string> = { ...this.#headers, 'webhook-id': id }
    if (this.#key !== undefined) {
      const timestamp = Math.floor(now.getTime() / 1000)
      headers['webhook-timestamp'] = String(timestamp)
      headers['webhook-signature'] = signWebhook(this.#key, id, timestamp, body)
    }
    return { path: this.#path, headers, body, events: end - start }
  }
}
