import type { HttpResponse, OutgoingRequest, Verdict } from '../../batch/types.js'
import { DETAIL_BODY_CHARS } from '../../batch/verdict.js'

/**
 * Reads `/batch/`'s answer. PostHog validates a batch as a whole: a 400 (`invalid_payload`), 401
 * (`invalid_project_api_key`) or 413 refuses every event of it, and sending it again cannot help.
 * Its documented error body is `{ type, code, detail }`: the detail goes in the log. 429 and 5xx are
 * retried by `fallback` (Retry-After honoured), which handles every status but these.
 */
export function interpretPosthogResponse (response: HttpResponse, request: OutgoingRequest, fallback: (response: HttpResponse, request: OutgoingRequest) => Verdict): Verdict {
  const status = response.statusCode
  if (status !== 400 && status !== 401 && status !== 413) return fallback(response, request)
  let detail = ''
  try {
    const parsed = JSON.parse(response.body) as { code?: unknown, detail?: unknown } | null
    if (typeof parsed?.code === 'string') detail = parsed.code
    if (typeof parsed?.detail === 'string') detail += `${detail === '' ? '' : ': '}${parsed.detail}`
  } catch {}
  if (detail === '') detail = response.body.slice(0, DETAIL_BODY_CHARS).trim()
  return { outcome: 'rejected', detail: `PostHog refused ${request.events} events (${status})${detail === '' ? '' : `: ${detail.slice(0, DETAIL_BODY_CHARS)}`}` }
}
