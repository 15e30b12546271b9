import { isIP } from 'node:net'
import type { ReceivedRequest, SinkBehaviour } from '../helpers/sink.js'
import { ipViolations, urlViolations, type PrivacyExpectations } from './privacy-rules.js'

// Umami's published schema for POST /api/send, as a validator for the test sink: the strictest of
// its versions (umami-software/umami src/app/api/send/route.ts and request-schema.ts; src/lib/schema.ts
// urlOrPathParam and the event-data checks; v2's sendPayloadSchema: url and referrer ≤ 500,
// hostname ≤ 100, language ≤ 35, screen ≤ 11, name ≤ 50). The client IP is read from the headers
// in the order of src/lib/ip.ts (x-client-ip, then x-forwarded-for's first entry, …); the bot check
// (isbot on the User-Agent) answers 200 {"beep":"boop"} and records nothing.

export interface UmamiRulesOptions {
  websiteId: string
  /** The request path. Default `/api/send`. */
  path?: string
  /** The header the visitor's IP must come in. Default `x-forwarded-for`. */
  ipHeader?: string
  /** Also check url, referrer and the IP header against the privacy policy. */
  privacy?: PrivacyExpectations
}

const PAYLOAD_FIELDS = new Set(['website', 'hostname', 'language', 'referrer', 'screen', 'title', 'url', 'name', 'data', 'tag', 'id'])
const FORMULA_TRIGGER = /^[=+\-@\t\r]/
const FORBIDDEN_DATA_KEYS = new Set(['__proto__', 'constructor', 'prototype'])
const CONTROL = /[\x00-\x1f\x7f]/
// What isbot matches, roughly: no User-Agent, a library's one-word one, a crawler's.
const BOT_LIKE = /^$|^[\w.-]+(\/[\w.-]+)?$|bot|crawl|spider|undici|node|curl/i
// Not the visitor's User-Agent but this server's (an HTTP library's): never to be sent.
const LIBRARY_UA = /^$|^(undici|node|node-fetch|axios|got)\b/i

function urlChecks (field: string, value: unknown, violations: string[]): void {
  if (typeof value !== 'string') { violations.push(`${field} must be a string`); return }
  if (value.length > 500) violations.push(`${field} has ${value.length} characters (max 500)`)
  let url: URL
  try {
    url = new URL(value, 'https://localhost')
  } catch {
    violations.push(`${field} ${JSON.stringify(value.slice(0, 60))} is not a URL or path`)
    return
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') violations.push(`${field} is not http(s)`)
  if (url.username !== '' || url.password !== '') violations.push(`${field} has credentials`)
  if (url.hostname.length > 100) violations.push(`${field}'s host is over 100 characters`)
  if (`${url.pathname}${url.hash}`.length > 500) violations.push(`${field}'s path is over 500 characters`)
  if (url.search.length - 1 > 500) violations.push(`${field}'s query is over 500 characters`)
}

export function umamiRules (options: UmamiRulesOptions): (request: ReceivedRequest) => string[] {
  const path = options.path ?? '/api/send'
  const ipHeader = options.ipHeader ?? 'x-forwarded-for'
  return function validateUmami (request: ReceivedRequest): string[] {
    const violations: string[] = []
    if (request.method !== 'POST') violations.push(`method ${request.method}, expected POST`)
    if (request.url !== path) violations.push(`path ${request.url}, expected ${path}`)
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      if (CONTROL.test(request.rawHeaders[i + 1])) violations.push(`header ${request.rawHeaders[i]} has a control character`)
    }
    const userAgent = request.headers['user-agent']
    if (typeof userAgent !== 'string' || LIBRARY_UA.test(userAgent)) violations.push(`User-Agent ${JSON.stringify(userAgent)} is not the visitor's (Umami drops it as a bot)`)
    const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
    if (contentType !== 'application/json') violations.push(`Content-Type ${JSON.stringify(request.headers['content-type'])}, expected application/json`)
    // A header Umami reads before ours would win over the visitor's IP.
    if (ipHeader !== 'x-client-ip' && request.headers['x-client-ip'] !== undefined) violations.push('x-client-ip sent: Umami would read it before the IP header')
    const ip = request.headers[ipHeader]
    if (ip !== undefined && (typeof ip !== 'string' || isIP(ip) === 0)) violations.push(`${ipHeader} ${JSON.stringify(ip)} is not one IP`)

    let body: unknown
    try {
      body = JSON.parse(request.body.toString('utf8'))
    } catch {
      violations.push('body is not JSON')
      return violations
    }
    const { type, payload } = (body ?? {}) as { type?: unknown, payload?: unknown }
    if (type !== 'event') violations.push(`type ${JSON.stringify(type)}, expected "event"`)
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) {
      violations.push('payload must be an object')
      return violations
    }
    const p = payload as Record<string, unknown>
    for (const key of Object.keys(p)) if (!PAYLOAD_FIELDS.has(key)) violations.push(`unknown payload field ${key}`)
    if (p.website !== options.websiteId) violations.push(`website ${JSON.stringify(p.website)}, configured ${options.websiteId}`)
    if (p.url === undefined) violations.push('url is required')
    else urlChecks('url', p.url, violations)
    if (p.referrer !== undefined) urlChecks('referrer', p.referrer, violations)
    if (p.hostname !== undefined && (typeof p.hostname !== 'string' || p.hostname.length > 100)) violations.push('hostname must be a string of at most 100 characters')
    if (p.language !== undefined && (typeof p.language !== 'string' || p.language.length > 35)) violations.push('language must be a string of at most 35 characters')
    if (p.screen !== undefined && (typeof p.screen !== 'string' || p.screen.length > 11)) violations.push('screen must be a string of at most 11 characters')
    if (p.title !== undefined && typeof p.title !== 'string') violations.push('title must be a string')
    if (p.name !== undefined) {
      if (typeof p.name !== 'string' || p.name.length > 50 || p.name.trim() === '') violations.push(`name ${JSON.stringify(p.name)} must be a non-blank string of at most 50 characters`)
      else if (FORMULA_TRIGGER.test(p.name)) violations.push(`name ${JSON.stringify(p.name)} starts with a formula trigger`)
    }
    if (p.data !== undefined) {
      if (p.data === null || typeof p.data !== 'object' || Array.isArray(p.data)) violations.push('data must be an object')
      else {
        const entries = Object.entries(p.data)
        if (entries.length > 50) violations.push(`data has ${entries.length} properties (max 50)`)
        for (const [key, value] of entries) {
          if (key.length > 100 || FORBIDDEN_DATA_KEYS.has(key)) violations.push(`data key ${JSON.stringify(key.slice(0, 20))} is refused`)
          if (typeof value === 'string' && value.length > 500) violations.push(`data.${key.slice(0, 20)} has ${value.length} characters (max 500)`)
          if (typeof value === 'number' && !Number.isFinite(value)) violations.push(`data.${key.slice(0, 20)} is not a finite number`)
          if (value !== null && typeof value === 'object') violations.push(`data.${key.slice(0, 20)} is nested`)
        }
      }
    }
    if (options.privacy !== undefined) {
      violations.push(...ipViolations(ipHeader, ip as string | undefined, options.privacy))
      for (const key of ['url', 'referrer']) {
        if (typeof p[key] === 'string') violations.push(...urlViolations(key, p[key], options.privacy))
      }
    }
    return violations
  }
}

/** How Umami answers: 400 for a payload its schema refuses, the bot answer for a bot's User-Agent, else its 200. */
export function umamiAnswer (request: ReceivedRequest, options: UmamiRulesOptions): SinkBehaviour {
  const schema = umamiRules({ ...options, privacy: undefined })(request).filter((v) => !v.startsWith('User-Agent'))
  if (schema.length > 0) return { kind: 'respond', status: 400, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: { message: schema[0] } }) }
  const userAgent = request.headers['user-agent']
  if (typeof userAgent !== 'string' || BOT_LIKE.test(userAgent)) return { kind: 'respond', status: 200, headers: { 'content-type': 'application/json' }, body: '{"beep":"boop"}' }
  return { kind: 'respond', status: 200, headers: { 'content-type': 'application/json' }, body: '{"cache":"token","sessionId":"s","visitId":"v"}' }
}
