// Umami's published limits for `POST /api/send`, the strictest of its versions' request schemas
// (src/app/api/send/route.ts and request-schema.ts, src/lib/schema.ts; v2 capped url and referrer
// at 500 characters, hostname 100, language 35, name 50; the newest also caps event data). Longer
// values make it answer 400 for the whole event.

export const UMAMI_MAX_URL_LENGTH = 500
export const UMAMI_MAX_REFERRER_LENGTH = 500
export const UMAMI_MAX_HOSTNAME_LENGTH = 100
export const UMAMI_MAX_LANGUAGE_LENGTH = 35
export const UMAMI_MAX_NAME_LENGTH = 50
export const UMAMI_MAX_TITLE_LENGTH = 500
/** Event data: properties per object, a string value's characters, a key's characters. */
export const UMAMI_MAX_DATA_PROPERTIES = 50
export const UMAMI_MAX_DATA_STRING_LENGTH = 500
export const UMAMI_MAX_DATA_KEY_LENGTH = 100
