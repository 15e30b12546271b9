import type { HttpResponse, OutgoingRequest, Verdict } from '../../batch/types.js'
import { redactText } from '../../http/index.js'
import type { RateLimitedLog } from '../../log.js'

/** Validation messages logged per debug response. */
const MAX_LOGGED_VALIDATION_MESSAGES = 25

interface ValidationMessage {
  fieldPath?: unknown
  description?: unknown
  validationCode?: unknown
}

/**
 * Reads the validation server's answer. It answers 200 whatever the payload: the verdict is in the
 * body's `validationMessages`, and any message means GA would not have processed the request as
 * sent. `fallback` handles what is not a 2xx. `secrets` are scrubbed from every logged message.
 */
export function interpretGa4DebugResponse (
  response: HttpResponse, request: OutgoingRequest, log: RateLimitedLog, secrets: readonly string[],
  fallback: (response: HttpResponse, request: OutgoingRequest) => Verdict
): Verdict {
  const status = response.statusCode
  if (status < 200 || status >= 300) return fallback(response, request)
  let messages: unknown
  try {
    messages = (JSON.parse(response.body) as { validationMessages?: unknown } | null)?.validationMessages
  } catch {
    log.warn('debug-body', { statusCode: status }, 'GA4 validation server answered without a JSON body')
    return { outcome: 'delivered' }
  }
  if (!Array.isArray(messages) || messages.length === 0) return { outcome: 'delivered' }
  const text = (value: unknown): string => typeof value === 'string' ? redactText(value, secrets, 300) : ''
  // Every message is logged (not rate-limited): debug mode exists to show them.
  for (const message of messages.slice(0, MAX_LOGGED_VALIDATION_MESSAGES) as ValidationMessage[]) {
    log.log.warn({
      validationCode: text(message?.validationCode),
      fieldPath: text(message?.fieldPath),
      description: text(message?.description)
    }, 'GA4 validation message')
  }
  const first = messages[0] as ValidationMessage | null
  return {
    outcome: 'delivered',
    rejected: request.events,
    detail: `GA4 validation server reported ${messages.length} message(s): ${text(first?.description)}`
  }
}
