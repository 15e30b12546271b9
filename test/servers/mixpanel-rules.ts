import { isIP } from 'node:net'
import type { ReceivedRequest, SinkBehaviour } from '../helpers/sink.js'
import { decodedBody } from './body.js'

// Mixpanel's published rules for POST /import, as a validator and a responder for the test sink.
// Sources: docs.mixpanel.com "Import Events" (2000 events and 10 MB uncompressed per request, the
// older pages and the 413 sample say 2 MB; JSON array or NDJSON; gzip; Basic auth with a service
// account and project_id, the project secret, or the token; strict=1 returns failed_records),
// "400 Bad Request" (required time, distinct_id, $insert_id; placeholder distinct ids; time after
// 1971 and ≤ 1 h ahead), "413 Payload Too Large" (each event < 1 MB) and "Event Deduplication"
// ($insert_id ≤ 36 bytes of [A-Za-z0-9-]); the per-event limit of fewer than 255 properties.

export const MIXPANEL_MAX_EVENTS = 2000
export const MIXPANEL_MAX_BYTES = 2 * 1024 * 1024
const MAX_EVENT_BYTES = 1024 * 1024
const INSERT_ID = /^[A-Za-z0-9-]{1,36}$/
const PLACEHOLDERS = new Set(['00000000-0000-0000-0000-000000000000', 'anon', 'anonymous', 'nil', 'none', 'null', 'n/a', 'undefined', 'unknown', '[]', '{}', '0', '-1'])
const MIN_TIME_MS = Date.UTC(1971, 0, 1)

export interface MixpanelRulesOptions {
  token: string
  /** The Authorization header the collector must send (`Basic …`). */
  authorization: string
  /** The path and query: `/import?strict=1` (plus `&project_id=` for a service account). */
  path?: string
}

export interface FailedRecord { index: number, insert_id: string, field: string, message: string }

/** Checks one event the way strict mode does; the failure, or undefined. */
export function checkMixpanelEvent (event: unknown, index: number, token: string, nowMs: number): FailedRecord | undefined {
  const fail = (field: string, message: string, insertId = ''): FailedRecord => ({ index, insert_id: insertId, field, message })
  if (event === null || typeof event !== 'object' || Array.isArray(event)) return fail('', 'event is not an object')
  const { event: name, properties } = event as { event?: unknown, properties?: unknown }
  if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) return fail('properties', "'properties' must be an object")
  const props = properties as Record<string, unknown>
  const insertId = typeof props.$insert_id === 'string' ? props.$insert_id : ''
  if (typeof name !== 'string' || name === '') return fail('event', "'event' must be a non-empty string", insertId)
  if (Buffer.byteLength(JSON.stringify(event)) >= MAX_EVENT_BYTES) return fail('', 'event is larger than 1MB', insertId)
  if (Object.keys(props).length >= 255) return fail('properties', 'too many properties (255 at most)', insertId)
  if (typeof props.time !== 'number' || !Number.isInteger(props.time)) return fail('properties.time', "'properties.time' is invalid: must be specified as seconds since epoch", insertId)
  const ms = props.time < 1e11 ? props.time * 1000 : props.time
  if (ms < MIN_TIME_MS || ms > nowMs + 3600_000) return fail('properties.time', "'properties.time' is out of range", insertId)
  if (typeof props.distinct_id !== 'string') return fail('properties.distinct_id', "'properties.distinct_id' must be a string", insertId)
  if (PLACEHOLDERS.has(props.distinct_id.trim().toLowerCase())) return fail('properties.distinct_id', "'properties.distinct_id' is an invalid placeholder", insertId)
  if (!INSERT_ID.test(insertId)) return fail('properties.$insert_id', "'properties.$insert_id' must be ≤ 36 bytes of alphanumerics or '-'", insertId)
  if (props.token !== undefined && props.token !== token) return fail('properties.token', "'properties.token' does not match the project", insertId)
  for (const [key, value] of Object.entries(props)) {
    if (value !== null && typeof value === 'object') return fail(`properties.${key}`, 'the plugin never sends nested values', insertId)
  }
  if (props.ip !== undefined && (typeof props.ip !== 'string' || isIP(props.ip) === 0)) return fail('properties.ip', "'properties.ip' is not an IP address", insertId)
  return undefined
}

type Parsed = { events: unknown[] } | { status: number, error: string }

function parse (request: ReceivedRequest, options: MixpanelRulesOptions): Parsed {
  const path = options.path ?? '/import?strict=1'
  if (request.method !== 'POST') return { status: 405, error: `method ${request.method}, expected POST` }
  if (request.url !== path) return { status: 404, error: `path ${request.url}, expected ${path}` }
  if (request.headers.authorization !== options.authorization) return { status: 401, error: 'Unauthorized: invalid credentials' }
  const type = (request.headers['content-type'] ?? '').split(';')[0].trim()
  if (type !== 'application/json') return { status: 400, error: `Content-Type ${type}, expected application/json` }
  const body = decodedBody(request)
  if (typeof body === 'string') return { status: 400, error: body }
  if (body.length > MIXPANEL_MAX_BYTES) return { status: 413, error: `request exceeds max limit of ${MIXPANEL_MAX_BYTES} bytes` }
  let events: unknown
  try {
    events = JSON.parse(body.toString('utf8'))
  } catch {
    return { status: 400, error: 'body is not JSON' }
  }
  if (!Array.isArray(events) || events.length === 0) return { status: 400, error: 'body must be a non-empty JSON array of events' }
  if (events.length > MIXPANEL_MAX_EVENTS) return { status: 400, error: `more than ${MIXPANEL_MAX_EVENTS} events in one request` }
  return { events }
}

/** The validator: any request Mixpanel would refuse as a whole, or any event it would fail, is a violation. */
export function mixpanelRules (options: MixpanelRulesOptions): (request: ReceivedRequest) => string[] {
  return function validateMixpanel (request: ReceivedRequest): string[] {
    const parsed = parse(request, options)
    if ('error' in parsed) return [`${parsed.status}: ${parsed.error}`]
    const now = Date.now()
    return parsed.events.flatMap((event, index) => {
      const failed = checkMixpanelEvent(event, index, options.token, now)
      return failed === undefined ? [] : [`event ${index}: ${failed.field} ${failed.message}`]
    })
  }
}

/**
 * Answers as `/import?strict=1` does: 200 `{code, num_records_imported, status}`; a 400 listing
 * `failed_records` when some events fail (the others imported); 401, 413 or 400 for the request.
 * `fails` marks further events to fail (to test the accounting of a partial success).
 */
export function mixpanelAnswer (options: MixpanelRulesOptions, fails: (event: Record<string, any>) => boolean = () => false): (request: ReceivedRequest) => SinkBehaviour {
  return (request) => {
    const parsed = parse(request, options)
    const json = { 'content-type': 'application/json' }
    if ('error' in parsed) return { kind: 'respond', status: parsed.status, headers: json, body: JSON.stringify({ code: parsed.status, error: parsed.error, status: 'Bad Request' }) }
    const now = Date.now()
    const failed: FailedRecord[] = []
    parsed.events.forEach((event, index) => {
      const failure = checkMixpanelEvent(event, index, options.token, now) ??
        (fails(event as Record<string, any>) ? { index, insert_id: (event as any).properties.$insert_id, field: 'properties', message: 'refused by the test' } : undefined)
      if (failure !== undefined) failed.push(failure)
    })
    const imported = parsed.events.length - failed.length
    if (failed.length === 0) return { kind: 'respond', status: 200, headers: json, body: JSON.stringify({ code: 200, num_records_imported: imported, status: 'OK' }) }
    return {
      kind: 'respond',
      status: 400,
      headers: json,
      body: JSON.stringify({ code: 400, error: 'some data points in the request failed validation', status: 'Bad Request', num_records_imported: imported, failed_records: failed })
    }
  }
}
