import { createHmac, type KeyObject } from 'node:crypto'

/** `v1,<base64 HMAC-SHA256(key, "${id}.${timestamp}.${body}")>`, the Standard Webhooks symmetric signature. */
export function signWebhook (key: KeyObject, id: string, timestamp: number, body: string | Uint8Array): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`
}
