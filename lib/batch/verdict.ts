import { parseRetryAfter, type HttpResponse } from '../http/index.js'
import type { Verdict } from './types.js'

/** Statuses worth another attempt: the request may succeed unchanged later. */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([408, 429, 500, 502, 503, 504])

/** Characters of a response body quoted in a rejection's detail. */
export const DETAIL_BODY_CHARS = 200

/**
 * The default reading of a response: 2xx delivered; 408, 429, 500, 502, 503 and 504 retried
 * (honouring Retry-After); anything else rejected with the status and the start of the body.
 */
export function defaultInterpret (response: HttpResponse): Verdict {
  const status = response.statusCode
  if (status >= 200 && status < 300) return { outcome: 'delivered' }
  if (RETRY_STATUSES.has(status)) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now())
    const detail = `HTTP ${status}`
    return retryAfterMs === undefined ? { outcome: 'retry', detail } : { outcome: 'retry', retryAfterMs, detail }
  }
  const body = response.body.slice(0, DETAIL_BODY_CHARS).trim()
  return { outcome: 'rejected', detail: body === '' ? `HTTP ${status}` : `HTTP ${status}: ${body}` }
}
