// GA4 naming rules for event and parameter names, and the value-length caps.
// Sources: Measurement Protocol "sending events" limitations and reserved names (as encoded by
// Google's own Event Builder, googleanalytics/ga-dev-tools formatCheckLib.ts), the Firebase
// Event/Param references (reserved prefixes), and GA support article 13316687 (reserved params).

/** Event and parameter names: at most 40 characters. */
export const MAX_NAME_LENGTH = 40
/** Parameter values: at most 100 characters, except the page fields below. */
export const MAX_PARAM_VALUE_LENGTH = 100
export const MAX_PAGE_LOCATION_LENGTH = 1000
export const MAX_PAGE_REFERRER_LENGTH = 420
export const MAX_PAGE_TITLE_LENGTH = 300
/** Parameters per event, the ones we set ourselves included. */
export const MAX_PARAMS_PER_EVENT = 25

/** Event names the Measurement Protocol refuses (NAME_RESERVED). `page_view` is not one of them. */
export const RESERVED_EVENT_NAMES: ReadonlySet<string> = new Set([
  'ad_activeview', 'ad_click', 'ad_exposure', 'ad_impression', 'ad_query', 'adunit_exposure',
  'app_clear_data', 'app_install', 'app_update', 'app_remove', 'error', 'first_open', 'first_visit',
  'in_app_purchase', 'notification_dismiss', 'notification_foreground', 'notification_open',
  'notification_receive', 'os_update', 'screen_view', 'session_start', 'user_engagement'
])

/**
 * GA4's ecommerce events (the "Retail / ecommerce" recommended events of the GA4 events reference,
 * developers.google.com/analytics/devguides/collection/ga4/reference/events): an event already
 * named one of these keeps its name when it carries revenue; any other is sent as `purchase`.
 * `in_app_purchase` is left out: the Measurement Protocol reserves it (the app stores report it).
 */
export const ECOMMERCE_EVENT_NAMES: ReadonlySet<string> = new Set([
  'add_payment_info', 'add_shipping_info', 'add_to_cart', 'add_to_wishlist', 'begin_checkout',
  'purchase', 'refund', 'remove_from_cart', 'select_item', 'select_promotion', 'view_cart',
  'view_item', 'view_item_list', 'view_promotion'
])

/** Ecommerce events GA4 requires a `transaction_id` on (a refund names the purchase it undoes). */
export const TRANSACTION_EVENT_NAMES: ReadonlySet<string> = new Set(['purchase', 'refund'])

/** The property an app sets to give its own `transaction_id` (an order number) instead of the event id. */
export const TRANSACTION_ID_PROPERTY = 'transaction_id'

/**
 * Parameter names a property may not take: the ones GA reserves, and the ones this collector sets
 * itself (a property named `value` would otherwise pose as revenue), and `items`. Clashing properties are renamed.
 */
export const RESERVED_PARAM_NAMES: ReadonlySet<string> = new Set([
  'session_id', 'session_number', 'engagement_time_msec', 'gclid', 'firebase_conversion',
  'page_location', 'page_referrer', 'page_title', 'language', 'value', 'currency',
  // GA4 reads `items` as the ecommerce items array: a property's count or text there is not one.
  'items'
])

/** Prefixes reserved for Google's own event and parameter names. */
const RESERVED_PREFIXES = ['google_', 'ga_', 'firebase_'] as const

/** What a name made valid is prefixed with when it is reserved or does not start with a letter. */
export const RENAME_PREFIX = 'x_'

const VALID_NAME = /^[A-Za-z][A-Za-z0-9_]{0,39}$/
/** A name is built from at most this many input characters: hostile inputs cost bounded work. */
const MAX_SCANNED = 256

function isReserved (name: string, reserved: ReadonlySet<string>): boolean {
  // GA's own checks are case-sensitive, but erring on the safe side costs nothing.
  const lower = name.toLowerCase()
  if (reserved.has(lower)) return true
  for (const prefix of RESERVED_PREFIXES) {
    if (lower.startsWith(prefix)) return true
  }
  return false
}

function isAsciiAlphanumeric (code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122)
}

/**
 * Makes `raw` a valid GA4 name, deterministically: characters other than ASCII letters and digits
 * become `_` (runs collapsed, ends trimmed), then a name that is reserved, has a reserved prefix or
 * starts with a digit gets `x_` in front, then it is cut to 40. `checkout.completed` →
 * `checkout_completed`, `error` → `x_error`, `404 page` → `x_404_page`. Returns '' when nothing usable
 * is left (the caller picks a fallback).
 */
export function toGa4Name (raw: string, reserved: ReadonlySet<string>): string {
  if (VALID_NAME.test(raw) && !isReserved(raw, reserved)) return raw
  let name = ''
  let separator = false
  const end = Math.min(raw.length, MAX_SCANNED)
  for (let i = 0; i < end && name.length <= MAX_NAME_LENGTH; i++) {
    const code = raw.charCodeAt(i)
    if (isAsciiAlphanumeric(code)) {
      if (separator && name.length > 0) name += '_'
      separator = false
      name += raw[i]
    } else {
      separator = true
    }
  }
  if (name.length === 0) return ''
  const first = name.charCodeAt(0)
  if (first <= 57 || isReserved(name, reserved)) name = RENAME_PREFIX + name
  if (name.length > MAX_NAME_LENGTH) {
    name = name.slice(0, MAX_NAME_LENGTH)
    while (name.endsWith('_')) name = name.slice(0, -1)
  }
  return name
}

/** An event name made valid, or `fallback` (itself valid) when nothing usable is left. */
export function eventName (raw: string, fallback: string): string {
  return toGa4Name(raw, RESERVED_EVENT_NAMES) || fallback
}

/** Property keys repeat from event to event: their wire names are remembered, up to this many. */
const PARAM_NAME_CACHE_SIZE = 1024
const paramNames = new Map<string, string>()

/** A parameter name made valid, or '' when nothing usable is left (the property is skipped). */
export function paramName (raw: string): string {
  let name = paramNames.get(raw)
  if (name !== undefined) return name
  name = toGa4Name(raw, RESERVED_PARAM_NAMES)
  // Keys are at most a few hundred characters in practice; long ones are not worth keeping.
  if (raw.length <= 64) {
    if (paramNames.size >= PARAM_NAME_CACHE_SIZE) paramNames.clear()
    paramNames.set(raw, name)
  }
  return name
}
