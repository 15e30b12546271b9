import type { HttpResponse, OutgoingRequest, Verdict } from '../../batch/types.js'
import { sanitizeHeaderValue } from '../text.js'

interface StrictAnswer {
  num_records_imported?: unknown
  failed_records?: unknown
}

/** The first failure's field and message, for the log (never an event's values beyond them). */
function firstFailure (records: unknown[]): string {
  const first = records[0] as { field?: unknown, message?: unknown } | null
  const field = typeof first?.field === 'string' ? first.field : ''
  const message = typeof first?.message === 'string' ? first.message : ''
  return sanitizeHeaderValue(`${field}: ${message}`).slice(0, 300)
}

/**
 * Reads `/import?strict=1`'s answer. A 400 is a partial success there: Mixpanel ingested the events
 * that passed and lists each one that failed in `failed_records`, so those are counted `rejected`
 * one by one and the rest `delivered`; such a 400 is never retried (the same events would fail
 * again). A body cut at 64 KiB (2000 failures do not fit) still says `num_records_imported` before
 * the list. A 400 without either is a refusal of the whole request. `fallback` handles the rest:
 * 429 and 5xx retried with Retry-After honoured, other statuses rejected.
 */
export function interpretMixpanelResponse (response: HttpResponse, request: OutgoingRequest, fallback: (response: HttpResponse, request: OutgoingRequest) => Verdict): Verdict {
  if (response.statusCode !== 400) return fallback(response, request)
  let answer: StrictAnswer | undefined
  try {
    const parsed = JSON.parse(response.body) as unknown
    if (parsed !== null && typeof parsed === 'object') answer = parsed as StrictAnswer
  } catch {}
  const events = request.events
  if (answer !== undefined && Array.isArray(answer.failed_records)) {
    const rejected = Math.min(answer.failed_records.length, events)
    if (rejected > 0) {
      return { outcome: 'delivered', rejected, detail: `Mixpanel refused ${rejected} of ${events} events (400, strict): ${firstFailure(answer.failed_records)}` }
    }
  }
  const imported = answer?.num_records_imported ?? /"num_records_imported"\s*:\s*(\d+)/.exec(response.body)?.[1]
  const count = typeof imported === 'string' ? Number(imported) : imported
  if (typeof count === 'number' && Number.isSafeInteger(count) && count >= 0 && count < events) {
    return { outcome: 'delivered', rejected: events - count, detail: `Mixpanel imported ${count} of ${events} events (400, strict)` }
  }
  return fallback(response, request)
}
