// Mixpanel's published limits for `POST /import` (docs.mixpanel.com, "Import Events" and
// "413 Payload Too Large"; the rate-limit guidance in "Import Events > Rate Limits").

/** Events per request. */
export const MIXPANEL_MAX_EVENTS_PER_REQUEST = 2000
/**
 * Uncompressed bytes per request. The reference says 10 MB, while its own 413 sample (and older
 * pages of the same reference) say 2 MB (2 097 152 bytes): the lower figure is kept, since a 413
 * refuses a whole batch and 2 MB still holds 2000 events of 1 KB.
 */
export const MIXPANEL_MAX_REQUEST_BYTES = 2 * 1024 * 1024
/** Each event must be smaller than 1 MB of uncompressed JSON. */
export const MIXPANEL_MAX_EVENT_BYTES = 1024 * 1024 - 1
/** Events are refused when dated before 1971-01-01 … */
export const MIXPANEL_MIN_TIME_MS = Date.UTC(1971, 0, 1)
/** … or more than an hour in the future (clock skew past that is clamped to now, as GA4's is). */
export const MIXPANEL_MAX_FUTURE_MS = 60 * 60 * 1000
/** `$insert_id`: at most 36 bytes of ASCII letters, digits and `-`. */
export const MIXPANEL_INSERT_ID = /^[A-Za-z0-9-]{1,36}$/
/** Mixpanel cuts longer strings (event names, distinct ids, values) to 255 characters. */
export const MIXPANEL_MAX_STRING_LENGTH = 255
/**
 * `distinct_id` values Mixpanel refuses as placeholders ("Import Events > distinct_id"): an app whose
 * user id is one of them gets its events sent under the visitor id instead.
 */
export const MIXPANEL_INVALID_DISTINCT_IDS: ReadonlySet<string> = new Set([
  '00000000-0000-0000-0000-000000000000', 'anon', 'anonymous', 'nil', 'none', 'null', 'n/a', 'na',
  'undefined', 'unknown', '<nil>', '0', '-1', 'true', 'false', '[]', '{}'
])
