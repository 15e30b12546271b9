import { isIP } from 'node:net'
import type { ReceivedRequest } from '../helpers/sink.js'
import { hasEmail, ipViolations, urlViolations, type PrivacyExpectations } from './privacy-rules.js'

// Plausible's published rules for POST /api/event, as a validator for the test sink.
// Sources: plausible/docs docs/events-api.md and docs/custom-props/introduction.md;
// plausible/analytics lib/plausible/ingestion/request.ex (url ≤ 2000 bytes and not data:,
// name ≤ 120, domain not blank, props ≤ 30 with keys ≤ 300 and values ≤ 2000 bytes, blank and
// list/map values filtered) and lib/plausible_web/remote_ip.ex (X-Forwarded-For holds IPs).

export interface PlausibleRulesOptions {
  /** The domain the collector was configured with: every event must carry exactly it. */
  domain: string
  /** The request path. Default `/api/event`. */
  path?: string
  /** Also check `url`, `referrer` and `X-Forwarded-For` against the privacy policy. */
  privacy?: PrivacyExpectations
}

const KNOWN_FIELDS = new Set(['name', 'url', 'domain', 'referrer', 'props', 'revenue', 'interactive'])
const CONTROL = /[\x00-\x1f\x7f]/

// Elixir's String.trim_leading strips Unicode White_Space (PropList.txt): U+0085 yes, U+FEFF no.
const WHITE_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*$/
// Names Plausible's own tracker uses for its page and engagement figures.
const RESERVED_NAMES = new Set(['pageleave', 'engagement'])

function isBlank (value: string): boolean {
  return WHITE_SPACE.test(value)
}

function siteOf (url: string, sites: string[]): boolean {
  let host: string
  try {
    host = new URL(url).hostname.toLowerCase()
  } catch {
    return false
  }
  return sites.some((site) => host === site || host.endsWith(`.${site}`))
}

export function plausibleRules (options: PlausibleRulesOptions): (request: ReceivedRequest) => string[] {
  const path = options.path ?? '/api/event'
  return function validatePlausible (request: ReceivedRequest): string[] {
    const violations: string[] = []
    if (request.method !== 'POST') violations.push(`method ${request.method}, expected POST`)
    if (request.url !== path) violations.push(`path ${request.url}, expected ${path}`)

    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      if (CONTROL.test(request.rawHeaders[i + 1])) violations.push(`header ${request.rawHeaders[i]} has a control character`)
    }
    const userAgent = request.headers['user-agent']
    if (typeof userAgent !== 'string' || userAgent.trim() === '') violations.push('User-Agent is required and must not be empty')
    const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
    if (contentType !== 'application/json' && contentType !== 'text/plain') {
      violations.push(`Content-Type ${JSON.stringify(request.headers['content-type'])}, expected application/json or text/plain`)
    }
    const xff = request.headers['x-forwarded-for']
    if (xff !== undefined && (typeof xff !== 'string' || isIP(xff) === 0)) violations.push(`X-Forwarded-For ${JSON.stringify(xff)} is not an IP`)

    let body: unknown
    try {
      body = JSON.parse(request.body.toString('utf8'))
    } catch {
      violations.push('body is not JSON')
      return violations
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      violations.push('body is not a JSON object')
      return violations
    }
    const fields = body as Record<string, unknown>
    if (options.privacy !== undefined) {
      violations.push(...ipViolations('X-Forwarded-For', xff as string | undefined, options.privacy))
      for (const key of ['url', 'referrer']) {
        if (typeof fields[key] === 'string') violations.push(...urlViolations(key, fields[key], options.privacy))
      }
      if (typeof fields.name === 'string' && hasEmail(fields.name)) violations.push(`name carries an email: ${fields.name}`)
      const props = fields.props
      if (props !== null && typeof props === 'object') {
        for (const [key, value] of Object.entries(props)) {
          if (typeof value === 'string' && hasEmail(value)) violations.push(`prop ${key} carries an email: ${JSON.stringify(value)}`)
        }
      }
    }
    for (const key of Object.keys(fields)) {
      if (!KNOWN_FIELDS.has(key)) violations.push(`unknown field ${key}`)
    }

    const name = fields.name
    if (typeof name !== 'string' && !Number.isInteger(name)) violations.push('name is required (string)')
    else if (typeof name === 'string' && (isBlank(name) || [...name].length > 120)) violations.push(`name has ${[...name].length} characters (1–120, not blank)`)
    else if (typeof name === 'string' && RESERVED_NAMES.has(name)) violations.push(`name ${name} is reserved by Plausible's tracker`)

    const url = fields.url
    if (typeof url !== 'string') violations.push('url is required (string)')
    else {
      if (Buffer.byteLength(url) > 2000) violations.push(`url has ${Buffer.byteLength(url)} bytes (max 2000)`)
      if (/^\s*data:/i.test(url)) violations.push('url scheme data: is not allowed')
      // The URL's host drives Plausible's hostname allow-list and visitor hash: never the visitor's choice.
      else if (!siteOf(url, options.domain.toLowerCase().split(',').map((site) => site.trim()))) violations.push(`url ${JSON.stringify(url.slice(0, 80))} is not on the site`)
    }

    const domain = fields.domain
    if (typeof domain !== 'string' || domain.trim() === '') violations.push('domain must not be blank')
    else if (domain !== options.domain) violations.push(`domain ${JSON.stringify(domain)}, configured ${JSON.stringify(options.domain)}`)

    if (fields.referrer !== undefined && typeof fields.referrer !== 'string') violations.push('referrer must be a string')
    if (fields.interactive !== undefined && typeof fields.interactive !== 'boolean') violations.push('interactive must be a boolean')

    const props = fields.props
    if (props !== undefined) {
      if (props === null || typeof props !== 'object' || Array.isArray(props)) violations.push('props must be a flat object')
      else {
        const entries = Object.entries(props)
        if (entries.length > 30) violations.push(`props has ${entries.length} entries (max 30)`)
        for (const [key, value] of entries) {
          if (Buffer.byteLength(key) > 300) violations.push(`prop key of ${Buffer.byteLength(key)} bytes (max 300)`)
          if (isBlank(key)) violations.push('blank prop key')
          if (value === null || typeof value === 'object') violations.push(`prop ${key.slice(0, 20)} has an object/list value`)
          // The Events API documents props as string → string (the server stringifies other scalars itself).
          else if (typeof value !== 'string') violations.push(`prop ${key.slice(0, 20)} is a ${typeof value}, the Events API documents strings`)
          else {
            const text = String(value)
            if (isBlank(text)) violations.push(`prop ${key.slice(0, 20)} has a blank value`)
            if (Buffer.byteLength(text) > 2000) violations.push(`prop value of ${Buffer.byteLength(text)} bytes (max 2000)`)
          }
        }
      }
    }

    const revenue = fields.revenue
    if (revenue !== undefined) {
      if (revenue === null || typeof revenue !== 'object' || Array.isArray(revenue)) violations.push('revenue must be an object')
      else {
        const { currency, amount } = revenue as Record<string, unknown>
        if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency)) violations.push(`revenue.currency ${JSON.stringify(currency)} is not an ISO 4217 code`)
        if (typeof amount === 'string' ? !/^-?\d+(\.\d+)?$/.test(amount) : typeof amount !== 'number') {
          violations.push(`revenue.amount ${JSON.stringify(amount)} is not a number or decimal string`)
        }
      }
    }
    return violations
  }
}
