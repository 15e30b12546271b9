import { randomUUID, type KeyObject } from 'node:crypto'
import type { AnalyticsEventJSON } from '../../event.js'
import type { DeliveryAdapter, OutgoingRequest, PreparedBatch } from '../../batch/types.js'
import { signWebhook } from './sign.js'

/** The body of every webhook request (schema/webhook-body.schema.json). */
export interface WebhookBody {
  /** A random UUID per request; also the `webhook-id` header. The same on every retry. */
  id: string
  schema: 3
  /** When the request was first sent (ISO 8601). */
  sentAt: string
  events: AnalyticsEventJSON[]
}

/** The bytes of a body around its events: `{"id":"<36>","schema":3,"sentAt":"<24>","events":[` … `]}` */
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
    // Each item's UTF-8 length, measured once: it splits the batch and sizes each body.
    const bytes = new Array<number>(items.length)
    let start = 0
    let size = ENVELOPE_BYTES
    for (let i = 0; i < items.length; i++) {
      // Every item fits an envelope on its own (collect refused bigger ones): split before it overflows.
      const length = Buffer.byteLength(items[i])
      bytes[i] = length
      if (i > start && size + length + 1 > this.#maxBodyBytes) {
        requests.push(this.#request(items, bytes, start, i))
        start = i
        size = ENVELOPE_BYTES
      }
      size += length + 1
    }
    if (start < items.length) requests.push(this.#request(items, bytes, start, items.length))
    return { requests, invalid: 0 }
  }

  /**
   * The body is encoded here, once, into a buffer of its exact size: the events are written into it
   * one after the other. Joined into one string instead, the events were copied by the join, again
   * when the envelope around them was flattened, and a third time when undici encoded the string.
   */
  #request (items: string[], bytes: number[], start: number, end: number): OutgoingRequest {
    // Built once and re-sent byte for byte: the id (an idempotency key for receivers) and sentAt
    // stay those of the first attempt. The signature does not: see beforeAttempt.
    const id = randomUUID()
    const head = `{"id":"${id}","schema":3,"sentAt":"${new Date(Date.now()).toISOString()}","events":[`
    // The head is ASCII; a comma between events, `]}` at the end.
    let total = head.length + 2 + (end - start - 1)
    for (let i = start; i < end; i++) total += bytes[i]
    const body = Buffer.allocUnsafe(total)
    let at = body.write(head, 0, 'latin1')
    for (let i = start; i < end; i++) {
      if (i > start) body[at++] = 0x2c // ,
      at += body.write(items[i], at, bytes[i], 'utf8')
    }
    body[at++] = 0x5d // ]
    body[at++] = 0x7d // }
    return { path: this.#path, headers: { ...this.#headers, 'webhook-id': id }, body, events: end - start }
  }

  /**
   * Signs each attempt at its send time. Standard Webhooks verifiers (svix, standardwebhooks)
   * refuse a `webhook-timestamp` more than 5 minutes old, and the spec has senders renew it on
   * every attempt: a timestamp fixed at prepare went stale behind Retry-After waits, or while the
   * later parts of a split batch waited their turn. Same id and body, fresh timestamp and signature.
   */
  beforeAttempt (request: OutgoingRequest): void {
    if (this.#key === undefined) return
    const timestamp = Math.floor(Date.now() / 1000)
    request.headers['webhook-timestamp'] = String(timestamp)
    request.headers['webhook-signature'] = signWebhook(this.#key, request.headers['webhook-id'], timestamp, request.body)
  }
}
