// The GA4 Measurement Protocol's published rules, as a validator for the test sink.
// Written from the documentation, independently of lib/collectors/ga4 (sharing code would make the
// tests agree with the collector's mistakes). Sources: the MP reference (transport, payload),
// "sending events" limitations, the reserved names (as in Google's Event Builder, ga-dev-tools
// formatCheckLib.ts), GA support 7061705 (page_* value caps) and 9267744 (User-ID ≤ 256).
import type { ReceivedRequest } from '../helpers/sink.js'
import { hasEmail, ipViolations, urlViolations, type PrivacyExpectations } from './privacy-rules.js'

const NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/
const RESERVED_EVENTS = new Set([
  'ad_activeview', 'ad_click', 'ad_exposure', 'ad_impression', 'ad_query', 'adunit_exposure',
  'app_clear_data', 'app_install', 'app_update', 'app_remove', 'error', 'first_open', 'first_visit',
  'in_app_purchase', 'notification_dismiss', 'notification_foreground', 'notification_open',
  'notification_receive', 'os_update', 'screen_view', 'session_start', 'user_engagement'
])
const RESERVED_PARAMS = new Set(['firebase_conversion'])
const RESERVED_PREFIXES = ['google_', 'ga_', 'firebase_']
const VALUE_CAPS: Record<string, number> = { page_location: 1000, page_referrer: 420, page_title: 300 }
const MAX_VALUE = 100
// The request-level `device` object of the MP reference; categories as GA4 reports them.
const DEVICE_FIELDS = new Set(['category', 'language', 'screen_resolution', 'operating_system', 'operating_system_version', 'model', 'brand', 'browser', 'browser_version'])
const DEVICE_CATEGORIES = new Set(['desktop', 'mobile', 'tablet', 'smart TV'])
const MAX_EVENTS = 25
const MAX_PARAMS = 25
const MAX_BODY = 130_000
const WINDOW_US = 72 * 3600 * 1e6

// The GA4 events reference's ecommerce events (retail): their parameters follow its table.
// `purchase` and `refund` need a transaction_id; `value` needs a `currency` (ISO 4217). `items` is
// required by the reference for most of them but optional here: the plugin has no items to send,
// and GA4 computes purchase revenue from value and currency alone.
const ECOMMERCE_EVENTS = new Set([
  'add_payment_info', 'add_shipping_info', 'add_to_cart', 'add_to_wishlist', 'begin_checkout', 'purchase',
  'refund', 'remove_from_cart', 'select_item', 'select_promotion', 'view_cart', 'view_item', 'view_item_list', 'view_promotion'
])
const TRANSACTION_EVENTS = new Set(['purchase', 'refund'])
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'))
const MAX_ITEMS = 200

/** The ecommerce parameter rules of one event named `name` (an ecommerce event). */
function ecommerceViolations (at: string, name: string, event: Record<string, unknown>): string[] {
  const problems: string[] = []
  const params = event.params as Record<string, unknown>
  if (params.value !== undefined) {
    if (typeof params.value !== 'number' || !Number.isFinite(params.value)) problems.push(`${at}.params.value of ${name} must be a finite number`)
    if (typeof params.currency !== 'string' || !CURRENCIES.has(params.currency)) {
      problems.push(`${at}.params.currency of ${name} must be an ISO 4217 code when value is set, got ${JSON.stringify(params.currency)}`)
    }
  } else if (params.currency !== undefined && (typeof params.currency !== 'string' || !CURRENCIES.has(params.currency))) {
    problems.push(`${at}.params.currency of ${name} must be an ISO 4217 code`)
  }
  if (name === 'purchase' && params.value === undefined) problems.push(`${at}: purchase without value`)
  if (TRANSACTION_EVENTS.has(name)) {
    const id = params.transaction_id
    if (typeof id !== 'string' || id === '') problems.push(`${at}: ${name} without a transaction_id string`)
  }
  const items = params.items
  if (items !== undefined) {
    if (!Array.isArray(items) || items.length === 0 || items.length > MAX_ITEMS) problems.push(`${at}.params.items must be an array of 1 to ${MAX_ITEMS} items`)
    else {
      items.forEach((item: unknown, i: number) => {
        if (!isObject(item)) problems.push(`${at}.params.items[${i}] is not an object`)
        else if (typeof item.item_id !== 'string' && typeof item.item_name !== 'string') problems.push(`${at}.params.items[${i}] needs item_id or item_name`)
      })
    }
  }
  return problems
}

function reservedPrefix (name: string): boolean {
  const lower = name.toLowerCase()
  return RESERVED_PREFIXES.some((prefix) => lower.startsWith(prefix))
}

function codePoints (text: string): number {
  let n = 0
  for (const _ of text) n++
  return n
}

function isObject (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/** Every rule `request` breaks, one message each; empty when it is a valid MP request. */
export function validateGa4Request (req: ReceivedRequest): string[] {
  const problems: string[] = []
  if (req.method !== 'POST') problems.push(`method ${req.method}, expected POST`)
  const url = new URL(req.url, 'http://sink')
  if (url.pathname !== '/mp/collect' && url.pathname !== '/debug/mp/collect') problems.push(`path ${url.pathname}`)
  for (const param of ['measurement_id', 'api_secret']) {
    const value = url.searchParams.get(param)
    if (value === null || value === '') problems.push(`query parameter ${param} missing`)
  }
  const type = req.headers['content-type'] ?? ''
  if (!type.startsWith('application/json')) problems.push(`content-type "${type}"`)
  if (req.body.length >= MAX_BODY) problems.push(`body of ${req.body.length} bytes, must be < ${MAX_BODY}`)
  let body: unknown
  try {
    body = JSON.parse(req.body.toString('utf8'))
  } catch {
    problems.push('body is not JSON')
    return problems
  }
  if (!isObject(body)) return [...problems, 'body is not a JSON object']
  if (typeof body.client_id !== 'string' || body.client_id === '') problems.push('client_id missing or not a string')
  if (body.user_id !== undefined && (typeof body.user_id !== 'string' || codePoints(body.user_id) > 256)) {
    problems.push('user_id must be a string of at most 256 characters')
  }
  if (body.ip_override !== undefined && typeof body.ip_override !== 'string') problems.push('ip_override must be a string')
  if (body.device !== undefined) {
    const device = body.device
    if (!isObject(device)) problems.push('device must be an object')
    else {
      for (const [key, value] of Object.entries(device)) {
        if (!DEVICE_FIELDS.has(key)) problems.push(`device.${key} is not a device field`)
        else if (typeof value !== 'string' || value === '' || codePoints(value) > MAX_VALUE) problems.push(`device.${key} must be a non-empty string of at most ${MAX_VALUE} characters`)
      }
      if (device.category !== undefined && !DEVICE_CATEGORIES.has(String(device.category))) problems.push(`device.category ${JSON.stringify(device.category)} is not a GA4 device category`)
    }
  }
  const events = body.events
  if (!Array.isArray(events) || events.length === 0) return [...problems, 'events missing or empty']
  if (events.length > MAX_EVENTS) problems.push(`${events.length} events, at most ${MAX_EVENTS}`)
  const now = Date.now() * 1000
  events.forEach((event: unknown, i: number) => {
    const at = `events[${i}]`
    if (!isObject(event)) { problems.push(`${at} is not an object`); return }
    const name = event.name
    if (typeof name !== 'string' || !NAME.test(name)) problems.push(`${at}.name ${JSON.stringify(name)} is not a valid name`)
    else if (RESERVED_EVENTS.has(name) || reservedPrefix(name)) problems.push(`${at}.name ${name} is reserved`)
    const micros = event.timestamp_micros
    if (micros !== undefined) {
      if (typeof micros !== 'number' || !Number.isInteger(micros)) problems.push(`${at}.timestamp_micros is not an integer`)
      else if (micros > now) problems.push(`${at}.timestamp_micros is in the future`)
      else if (now - micros > WINDOW_US) problems.push(`${at}.timestamp_micros is older than 72 h`)
    }
    const params = event.params
    if (!isObject(params)) { problems.push(`${at}.params missing`); return }
    const names = Object.keys(params)
    if (names.length > MAX_PARAMS) problems.push(`${at} has ${names.length} params, at most ${MAX_PARAMS}`)
    for (const key of names) {
      const value = params[key]
      if (!NAME.test(key)) problems.push(`${at}.params name ${JSON.stringify(key)} is not valid`)
      else if (RESERVED_PARAMS.has(key) || reservedPrefix(key)) problems.push(`${at}.params name ${key} is reserved`)
      if (typeof value === 'string') {
        const cap = VALUE_CAPS[key] ?? MAX_VALUE
        if (codePoints(value) > cap) problems.push(`${at}.params.${key} is ${codePoints(value)} characters, at most ${cap}`)
      } else if (key === 'items' && Array.isArray(value)) {
        // Checked with the ecommerce rules below.
      } else if (typeof value !== 'number' || !Number.isFinite(value)) {
        problems.push(`${at}.params.${key} must be a string or a finite number`)
      }
    }
    for (const required of ['session_id', 'engagement_time_msec']) {
      const value = params[required]
      const number = typeof value === 'string' ? Number(value) : value
      if (typeof number !== 'number' || !(number >= 1)) problems.push(`${at}.params.${required} missing or < 1`)
    }
    if (params.value !== undefined) {
      if (typeof params.value !== 'number') problems.push(`${at}.params.value must be a number`)
      if (typeof params.currency !== 'string' || !/^[A-Z]{3}$/.test(params.currency)) {
        problems.push(`${at}.params.currency must be 3 uppercase letters when value is set`)
      }
    }
    if (typeof name === 'string' && ECOMMERCE_EVENTS.has(name)) problems.push(...ecommerceViolations(at, name, event))
    else if (params.items !== undefined) problems.push(`${at}: items on ${String(name)}, which is not an ecommerce event`)
  })
  return problems
}

/**
 * The MP rules plus the privacy policy: page_location and page_referrer without a non-allowed
 * parameter, fragment or email; ip_override per the IP policy; for an anonymous visitor no user_id
 * and both ad consents DENIED (the MP reference's request-level `consent`).
 */
export function ga4PrivacyRules (expect: PrivacyExpectations): (req: ReceivedRequest) => string[] {
  return function validateGa4Privacy (req: ReceivedRequest): string[] {
    const problems = validateGa4Request(req)
    let body: Record<string, unknown>
    try {
      body = JSON.parse(req.body.toString('utf8')) as Record<string, unknown>
    } catch {
      return problems
    }
    problems.push(...ipViolations('ip_override', body.ip_override as string | undefined, expect))
    if (expect.anonymous === true) {
      if (body.user_id !== undefined) problems.push('user_id sent for an anonymous visitor')
      const consent = body.consent as Record<string, unknown> | undefined
      if (consent?.ad_user_data !== 'DENIED' || consent?.ad_personalization !== 'DENIED') {
        problems.push(`consent ${JSON.stringify(consent)} for an anonymous visitor, expected both ad consents DENIED`)
      }
    }
    // GA4's terms forbid personally identifiable information anywhere in a hit: an email as the user id above all.
    if (typeof body.user_id === 'string' && hasEmail(body.user_id)) problems.push(`user_id is an email: ${JSON.stringify(body.user_id)}`)
    for (const event of (Array.isArray(body.events) ? body.events : []) as Array<{ name?: unknown, params?: Record<string, unknown> }>) {
      for (const key of ['page_location', 'page_referrer']) {
        const value = event.params?.[key]
        if (typeof value === 'string') problems.push(...urlViolations(key, value, expect))
      }
      if (typeof event.name === 'string' && hasEmail(event.name)) problems.push(`event name carries an email: ${event.name}`)
      for (const [key, value] of Object.entries(event.params ?? {})) {
        if (typeof value === 'string' && hasEmail(value)) problems.push(`param ${key} carries an email: ${JSON.stringify(value)}`)
      }
    }
    return problems
  }
}
