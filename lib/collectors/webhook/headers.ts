import { hasUnsafeHeaderChars } from '../text.js'
import { invalidOption } from './invalid-option.js'

// RFC 9110 §7.6.1 hop-by-hop headers, the framing undici computes itself, the body's fixed type,
// and the Standard Webhooks headers this collector signs.
const FORBIDDEN_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect', 'content-type',
  'webhook-id', 'webhook-timestamp', 'webhook-signature'
])
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Validates custom headers; names come back lowercase. Error messages name the header, never its value. */
export function normalizeWebhookHeaders (headers: unknown): Record<string, string> {
  if (headers === undefined) return {}
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw invalidOption('headers must be an object of header names to string values')
  }
  const normalized: Record<string, string> = Object.create(null)
  for (const name of Object.keys(headers)) {
    const value = (headers as Record<string, unknown>)[name]
    if (!HEADER_NAME.test(name)) throw invalidOption(`header name ${JSON.stringify(name.slice(0, 64))} is not a valid HTTP token`)
    const lower = name.toLowerCase()
    if (FORBIDDEN_HEADERS.has(lower)) throw invalidOption(`header "${name}" is set by the collector or the connection and cannot be overridden`)
    if (lower in normalized) throw invalidOption(`header "${name}" is given twice (header names are case-insensitive)`)
    if (typeof value !== 'string') throw invalidOption(`header "${name}" must have a string value`)
    // Refused rather than cleaned: a control character (CR/LF above all) could inject headers.
    if (hasUnsafeHeaderChars(value)) throw invalidOption(`header "${name}" has a control character (CR, LF, …) or a character outside Latin-1 in its value`)
    normalized[lower] = value
  }
  return normalized
}
