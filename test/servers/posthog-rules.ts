import { isIP } from 'node:net'
import type { ReceivedRequest, SinkBehaviour } from '../helpers/sink.js'
import { decodedBody } from './body.js'

// PostHog's published rules for POST /batch/, as a validator and a responder for the test sink.
// Sources: posthog.com/docs/api/capture (api_key in the body, batch of events each with `event` and
// `distinct_id`, optional `properties`, ISO 8601 `timestamp` and `uuid`; gzip accepted); the capture
// service's limits (20 MB a request, events over 1 MB answered 413 "maximum event size exceeded",
// distinct_id cut to 200 characters) and its error bodies `{ type, code, detail }`
// (400 invalid_payload, 401 invalid_project_api_key).

export const POSTHOG_MAX_BYTES = 20 * 1000 * 1000
const MAX_EVENT_BYTES = 1000 * 1000
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

export interface PosthogRulesOptions {
  apiKey: string
  /** Default `/batch/`. */
  path?: string
}

function error (status: number, code: string, detail: string): { status: number, code: string, detail: string } {
  return { status, code, detail }
}

type Checked = { events: number, warnings: string[] } | { status: number, code: string, detail: string }

function check (request: ReceivedRequest, options: PosthogRulesOptions): Checked {
  const path = options.path ?? '/batch/'
  if (request.method !== 'POST') return error(405, 'method_not_allowed', `method ${request.method}`)
  if (request.url !== path) return error(404, 'not_found', `path ${request.url}, expected ${path}`)
  const body = decodedBody(request)
  if (typeof body === 'string') return error(400, 'invalid_payload', body)
  if (body.length > POSTHOG_MAX_BYTES) return error(413, 'payload_too_large', `request of ${body.length} bytes`)
  let parsed: any
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    return error(400, 'invalid_payload', 'Malformed request data: body is not JSON')
  }
  if (parsed === null || typeof parsed !== 'object' || !Array.isArray(parsed.batch)) return error(400, 'invalid_payload', 'No batch array')
  if (parsed.api_key !== options.apiKey) return error(401, 'invalid_project_api_key', 'Project API key invalid. You can find your project API key in PostHog project settings.')
  if (parsed.sent_at !== undefined && (typeof parsed.sent_at !== 'string' || !ISO.test(parsed.sent_at))) return error(400, 'invalid_payload', 'sent_at is not ISO 8601')
  const warnings: string[] = []
  for (const [index, event] of (parsed.batch as any[]).entries()) {
    if (event === null || typeof event !== 'object') return error(400, 'invalid_payload', `event ${index} is not an object`)
    if (typeof event.event !== 'string' || event.event === '') return error(400, 'invalid_payload', 'Invalid payload: All events must have the event name field "event"!')
    if (typeof event.distinct_id !== 'string' || event.distinct_id === '') return error(400, 'invalid_payload', `event ${index}: missing distinct_id`)
    // Whether the service counts bytes or characters, 200 bytes is within it.
    if (Buffer.byteLength(event.distinct_id) > 200) warnings.push(`event ${index}: distinct_id longer than 200 bytes may be cut by PostHog`)
    if (event.uuid !== undefined && (typeof event.uuid !== 'string' || !UUID.test(event.uuid))) return error(400, 'invalid_payload', `event ${index}: uuid is not a UUID`)
    if (event.timestamp !== undefined && (typeof event.timestamp !== 'string' || !ISO.test(event.timestamp))) return error(400, 'invalid_payload', `event ${index}: timestamp is not ISO 8601`)
    if (event.properties !== undefined && (event.properties === null || typeof event.properties !== 'object' || Array.isArray(event.properties))) {
      return error(400, 'invalid_payload', `event ${index}: properties is not an object`)
    }
    if (Buffer.byteLength(JSON.stringify(event)) > MAX_EVENT_BYTES) return error(413, 'payload_too_large', 'maximum event size exceeded')
    const ip = event.properties?.$ip
    if (ip !== undefined && (typeof ip !== 'string' || isIP(ip) === 0)) warnings.push(`event ${index}: $ip is not an IP`)
    for (const [key, value] of Object.entries(event.properties ?? {})) {
      if (value !== null && typeof value === 'object') warnings.push(`event ${index}: property ${key} is nested (the plugin never sends nested values)`)
    }
  }
  return { events: parsed.batch.length, warnings }
}

/** The validator: a request PostHog would refuse, or a value it would alter, is a violation. */
export function posthogRules (options: PosthogRulesOptions): (request: ReceivedRequest) => string[] {
  return function validatePosthog (request: ReceivedRequest): string[] {
    const checked = check(request, options)
    if ('status' in checked) return [`${checked.status} ${checked.code}: ${checked.detail}`]
    return checked.warnings
  }
}

/** Answers as the capture service does: 200 `{"status":"Ok"}`, or the error with `{ type, code, detail }`. */
export function posthogAnswer (options: PosthogRulesOptions): (request: ReceivedRequest) => SinkBehaviour {
  return (request) => {
    const checked = check(request, options)
    const json = { 'content-type': 'application/json' }
    if ('status' in checked) {
      const type = checked.status === 401 ? 'authentication_error' : 'validation_error'
      return { kind: 'respond', status: checked.status, headers: json, body: JSON.stringify({ type, code: checked.code, detail: checked.detail, attr: null }) }
    }
    return { kind: 'respond', status: 200, headers: json, body: JSON.stringify({ status: 'Ok' }) }
  }
}
