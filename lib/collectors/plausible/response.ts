import type { HttpResponse, OutgoingRequest, Verdict } from '../../batch/types.js'
import { sanitizeHeaderValue } from '../text.js'

function headerValue (response: HttpResponse, name: string): string | undefined {
  const value = response.headers[name]
  return Array.isArray(value) ? value.join(', ') : value
}

/** Reads Plausible's answer. `fallback` handles what Plausible does not make special. */
export function interpretPlausibleResponse (response: HttpResponse, request: OutgoingRequest, fallback: (response: HttpResponse, request: OutgoingRequest) => Verdict): Verdict {
  const status = response.statusCode
  if (status >= 200 && status < 300) {
    // 202 even for events Plausible throws away (bot, data-centre IP, unknown domain, throttle):
    // only this header tells them apart.
    const dropped = headerValue(response, 'x-plausible-dropped')
    if (dropped === undefined) return { outcome: 'delivered' }
    return {
      outcome: 'delivered',
      destinationDropped: request.events,
      detail: `Plausible dropped the event (x-plausible-dropped: ${sanitizeHeaderValue(dropped).slice(0, 100)})`
    }
  }
  if (status === 400) {
    return { outcome: 'rejected', detail: `Plausible refused the event (400): ${describeErrors(response.body)}` }
  }
  return fallback(response, request)
}

function describeErrors (body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: unknown }
    if (parsed !== null && typeof parsed === 'object' && parsed.errors !== undefined) return JSON.stringify(parsed.errors).slice(0, 2000)
  } catch {}
  return JSON.stringify(body.slice(0, 2000))
}
