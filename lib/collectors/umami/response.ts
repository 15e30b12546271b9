import type { HttpResponse, OutgoingRequest, Verdict } from '../../batch/types.js'
import { DETAIL_BODY_CHARS } from '../../batch/verdict.js'

// Umami's answer to a User-Agent its `isbot` check matches: 200 with this body, nothing recorded.
const BOT_ANSWER = /"beep"\s*:\s*"boop"/

/** Reads Umami's answer. `fallback` handles what Umami does not make special (429, 5xx, Retry-After). */
export function interpretUmamiResponse (response: HttpResponse, request: OutgoingRequest, fallback: (response: HttpResponse, request: OutgoingRequest) => Verdict): Verdict {
  const status = response.statusCode
  if (status >= 200 && status < 300) {
    if (!BOT_ANSWER.test(response.body)) return { outcome: 'delivered' }
    return { outcome: 'delivered', destinationDropped: request.events, detail: 'Umami took the visitor\'s User-Agent for a bot and recorded nothing ({"beep":"boop"})' }
  }
  const body = response.body.slice(0, DETAIL_BODY_CHARS).trim()
  const quoted = body === '' ? '' : `: ${body}`
  // 400: the payload broke the schema, or the website id is unknown to this instance.
  if (status === 400) return { outcome: 'rejected', detail: `Umami refused the event (400)${quoted}` }
  // 403: the instance's IGNORE_IP lists the visitor's IP: another attempt gets the same answer.
  if (status === 403) return { outcome: 'rejected', detail: `Umami refused the event (403, an IP its IGNORE_IP setting blocks)${quoted}` }
  return fallback(response, request)
}
