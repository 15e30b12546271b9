import { isIP } from 'node:net'
import type { ReceivedRequest, SinkBehaviour } from '../helpers/sink.js'

// The Segment HTTP Tracking API's published rules for POST /v1/batch, as a validator for the test
// sink, with a profile per Segment-compatible service. Sources: segment-docs
// src/connections/sources/catalog/libraries/server/http-api/index.md (Basic auth with the write key
// as user name; Content-Type application/json; 500 KB per batch, 32 KB per message, 2500 messages,
// 400 for a body over a limit or not JSON; every message needs a userId or an anonymousId, a track
// call an `event`; messageId deduplicates); the common fields spec (type, messageId, timestamp
// ISO 8601, context.ip/userAgent/page/campaign/locale/library). RudderStack's HTTP API
// (rudderstack.com/docs/api/http-api): the same auth, 32 KB per event, 4 MB per batch, 401 for a
// wrong write key, 413 for a body too large. Jitsu's Segment-compatible /v1/batch: Basic auth (the
// key `keyId:secret` as user name) or X-Write-Key.

export type SegmentService = 'segment' | 'rudderstack' | 'jitsu'

export interface SegmentProfile {
  maxBatchBytes: number
  maxMessageBytes: number
  maxMessages: number
  /** The status a body over the batch size gets. */
  tooLargeStatus: number
  /** The status a wrong write key gets (Segment answers 200 and drops the batch: 401 here to see it). */
  badKeyStatus: number
}

export const SEGMENT_PROFILES: Record<SegmentService, SegmentProfile> = {
  segment: { maxBatchBytes: 500 * 1024, maxMessageBytes: 32 * 1024, maxMessages: 2500, tooLargeStatus: 400, badKeyStatus: 401 },
  rudderstack: { maxBatchBytes: 4 * 1024 * 1024, maxMessageBytes: 32 * 1024, maxMessages: Infinity, tooLargeStatus: 413, badKeyStatus: 401 },
  jitsu: { maxBatchBytes: Infinity, maxMessageBytes: Infinity, maxMessages: Infinity, tooLargeStatus: 413, badKeyStatus: 401 }
}

export interface SegmentRulesOptions {
  writeKey: string
  service?: SegmentService
  /** The request path. Default `/v1/batch`. */
  path?: string
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/
const MESSAGE_TYPES = new Set(['track', 'page', 'identify', 'screen', 'group', 'alias'])
const CONTROL = /[\x00-\x1f\x7f]/

function credential (request: ReceivedRequest, service: SegmentService): string | undefined {
  const authorization = request.headers.authorization
  if (typeof authorization === 'string' && authorization.startsWith('Basic ')) {
    const decoded = Buffer.from(authorization.slice(6), 'base64').toString('utf8')
    const colon = decoded.lastIndexOf(':')
    // The write key is the user name; the password is empty.
    return colon === -1 ? undefined : decoded.slice(colon + 1) === '' ? decoded.slice(0, colon) : undefined
  }
  const header = request.headers['x-write-key']
  if (service === 'jitsu' && typeof header === 'string') return header
  return undefined
}

function isScalarOrJson (value: unknown): boolean {
  return value === null || ['string', 'number', 'boolean', 'object'].includes(typeof value)
}

/** Checks one request; returns the violations. */
export function segmentRules (options: SegmentRulesOptions): (request: ReceivedRequest) => string[] {
  const service = options.service ?? 'segment'
  const profile = SEGMENT_PROFILES[service]
  const path = options.path ?? '/v1/batch'
  return function validateSegment (request: ReceivedRequest): string[] {
    const violations: string[] = []
    if (request.method !== 'POST') violations.push(`method ${request.method}, expected POST`)
    if (request.url !== path) violations.push(`path ${request.url}, expected ${path}`)
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      if (CONTROL.test(request.rawHeaders[i + 1])) violations.push(`header ${request.rawHeaders[i]} has a control character`)
    }
    if (credential(request, service) !== options.writeKey) violations.push('no Basic auth with the write key as user name and an empty password')
    const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
    if (contentType !== 'application/json') violations.push(`Content-Type ${JSON.stringify(request.headers['content-type'])}, expected application/json`)
    if (request.body.length > profile.maxBatchBytes) violations.push(`body of ${request.body.length} bytes (max ${profile.maxBatchBytes})`)

    let body: unknown
    try {
      body = JSON.parse(request.body.toString('utf8'))
    } catch {
      violations.push('body is not JSON')
      return violations
    }
    const batch = (body as { batch?: unknown } | null)?.batch
    if (!Array.isArray(batch)) {
      violations.push('body has no batch array')
      return violations
    }
    if (batch.length === 0) violations.push('empty batch')
    if (batch.length > profile.maxMessages) violations.push(`batch of ${batch.length} messages (max ${profile.maxMessages})`)
    const ids = new Set<string>()
    for (const [i, message] of batch.entries()) {
      const at = `batch[${i}]`
      if (message === null || typeof message !== 'object' || Array.isArray(message)) { violations.push(`${at} is not an object`); continue }
      const m = message as Record<string, unknown>
      const bytes = Buffer.byteLength(JSON.stringify(m))
      if (bytes > profile.maxMessageBytes) violations.push(`${at} has ${bytes} bytes (max ${profile.maxMessageBytes})`)
      if (typeof m.type !== 'string' || !MESSAGE_TYPES.has(m.type)) violations.push(`${at}.type ${JSON.stringify(m.type)}`)
      if (typeof m.messageId !== 'string' || m.messageId === '') violations.push(`${at}.messageId missing`)
      else if (ids.has(m.messageId)) violations.push(`${at}.messageId repeated in the batch`)
      else ids.add(m.messageId)
      if (typeof m.timestamp !== 'string' || !ISO_8601.test(m.timestamp)) violations.push(`${at}.timestamp ${JSON.stringify(m.timestamp)} is not ISO 8601`)
      const hasUser = typeof m.userId === 'string' && m.userId !== ''
      const hasAnonymous = typeof m.anonymousId === 'string' && m.anonymousId !== ''
      if (!hasUser && !hasAnonymous) violations.push(`${at} has neither userId nor anonymousId`)
      if (m.type === 'track' && (typeof m.event !== 'string' || m.event.trim() === '')) violations.push(`${at} is a track call without an event name`)
      if (m.name !== undefined && typeof m.name !== 'string') violations.push(`${at}.name must be a string`)
      const properties = m.properties
      if (properties !== undefined) {
        if (properties === null || typeof properties !== 'object' || Array.isArray(properties)) violations.push(`${at}.properties must be an object`)
        else {
          for (const [key, value] of Object.entries(properties)) {
            if (!isScalarOrJson(value)) violations.push(`${at}.properties.${key} is not a JSON value`)
          }
          const p = properties as Record<string, unknown>
          // Segment's e-commerce spec: revenue in the currency's major unit, a number (an app's own
          // `revenue` property without a currency is its business: Segment accepts any JSON).
          if (p.currency !== undefined && typeof p.revenue !== 'number') violations.push(`${at}.properties.revenue must be a number beside currency`)
          if (p.currency !== undefined && (typeof p.currency !== 'string' || !/^[A-Z]{3}$/.test(p.currency))) violations.push(`${at}.properties.currency must be an ISO 4217 code`)
        }
      }
      const context = m.context
      if (context !== undefined) {
        if (context === null || typeof context !== 'object') { violations.push(`${at}.context must be an object`); continue }
        const c = context as Record<string, unknown>
        if (c.ip !== undefined && (typeof c.ip !== 'string' || isIP(c.ip) === 0)) violations.push(`${at}.context.ip ${JSON.stringify(c.ip)} is not an IP`)
        for (const key of ['userAgent', 'locale'] as const) {
          if (c[key] !== undefined && typeof c[key] !== 'string') violations.push(`${at}.context.${key} must be a string`)
        }
        for (const key of ['page', 'campaign', 'library'] as const) {
          const value = c[key]
          if (value === undefined) continue
          if (value === null || typeof value !== 'object') { violations.push(`${at}.context.${key} must be an object`); continue }
          for (const [field, text] of Object.entries(value)) {
            if (typeof text !== 'string') violations.push(`${at}.context.${key}.${field} must be a string`)
          }
        }
      }
    }
    return violations
  }
}

/** How the service answers a request: its documented errors for what breaks its rules, else 200. */
export function segmentAnswer (request: ReceivedRequest, options: SegmentRulesOptions): SinkBehaviour {
  const service = options.service ?? 'segment'
  const profile = SEGMENT_PROFILES[service]
  if (credential(request, service) !== options.writeKey) return { kind: 'respond', status: profile.badKeyStatus, body: '{"error":"Invalid write key"}' }
  if (request.body.length > profile.maxBatchBytes) return { kind: 'respond', status: profile.tooLargeStatus, body: '{"error":"Request size too large"}' }
  try {
    JSON.parse(request.body.toString('utf8'))
  } catch {
    return { kind: 'respond', status: 400, body: '{"error":"Invalid JSON"}' }
  }
  return { kind: 'respond', status: 200, headers: { 'content-type': 'application/json' }, body: '{"success":true}' }
}
