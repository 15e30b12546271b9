import { parseRetryAfter, type HttpResponse } from '../../http/index.js'
import type { Verdict } from '../../batch/types.js'
import { DETAIL_BODY_CHARS } from '../../batch/verdict.js'

/**
 * Statuses analytics-node retries (its publisher): 408, 410, 429 and 460, and every 5xx but 501,
 * 505 and 511 (which another attempt cannot fix). 400 (malformed, or over a size limit) and the
 * other 4xx (401: a wrong write key) are final.
 */
export function isSegmentRetryStatus (status: number): boolean {
  if (status >= 500 && status < 600) return status !== 501 && status !== 505 && status !== 511
  return status === 408 || status === 410 || status === 429 || status === 460
}

/**
 * Reads the answer of `POST /v1/batch`. Segment answers 200 for every well-formed batch, even for
 * messages it later discards (its debugger shows those): a 2xx is all that can be known.
 * 3xx are failures here, not successes as analytics-node counts them: undici does not follow
 * redirects, so the batch never reached the API.
 */
export function interpretSegmentResponse (response: HttpResponse, service: string): Verdict {
  const status = response.statusCode
  if (status >= 200 && status < 300) return { outcome: 'delivered' }
  if (isSegmentRetryStatus(status)) {
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], Date.now())
    const detail = `HTTP ${status}`
    return retryAfterMs === undefined ? { outcome: 'retry', detail } : { outcome: 'retry', retryAfterMs, detail }
  }
  const body = response.body.slice(0, DETAIL_BODY_CHARS).trim()
  const why = status === 401 || status === 403 ? ' (is the writeKey right?)' : status === 400 || status === 413 ? ' (malformed, or over a size limit)' : ''
  return { outcome: 'rejected', detail: `${service} refused the batch: HTTP ${status}${why}${body === '' ? '' : `: ${body}`}` }
}
