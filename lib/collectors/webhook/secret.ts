import { invalidOption } from './invalid-option.js'

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const SECRET_PREFIX = 'whsec_'
// Standard Webhooks: symmetric secrets are random, "at least 24 bytes (192 bits, 512 maximum)".
const MIN_SECRET_BYTES = 24
const MAX_SECRET_BYTES = 64

/** Decodes a Standard Webhooks secret. Error messages never quote it. */
export function decodeWebhookSecret (secret: unknown): Buffer {
  if (typeof secret !== 'string') throw invalidOption('secret must be a string ("whsec_…" or base64)')
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret
  if (encoded === '' || !BASE64.test(encoded)) throw invalidOption('secret must be "whsec_" followed by base64, or base64')
  const key = Buffer.from(encoded, 'base64')
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw invalidOption(`secret must decode to ${MIN_SECRET_BYTES}–${MAX_SECRET_BYTES} random bytes, it decodes to ${key.length}`)
  }
  return key
}
