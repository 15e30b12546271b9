// Reads the two cookies the GA4 web tag (gtag.js) sets, so server events join the browser's
// user and session: `_ga` (the client id) and `_ga_<stream>` (session state).
// Cookie headers are attacker-controlled: parsing is one linear pass over a bounded prefix,
// and every value is matched by an anchored pattern on a bounded slice.

/** Only this much of a Cookie header is read (browsers send at most ~4 KiB per cookie). */
export const MAX_COOKIE_HEADER_LENGTH = 8192
const MAX_COOKIE_VALUE_LENGTH = 128

/** `GA1.1.1234567890.1700000000` → `1234567890.1700000000` (the second field is the domain depth). */
const GA_CLIENT = /^GA\d\.[0-9-]{1,8}\.(\d{1,20}\.\d{1,20})$/
/** `GS1.1.<session id>.<session number>.…` */
const GS1_SESSION = /^GS1\.[0-9-]{1,8}\.(\d{1,15})(?:\.|$)/
/** `GS2.1.s<session id>$o<session number>$g…` (the format gtag.js writes since 2025). */
const GS2_SESSION = /^GS2\.[0-9-]{1,8}\.s(\d{1,15})(?:\$|$)/

export interface GaCookies {
  /** The `_ga` client id, `<random>.<first visit seconds>`. */
  clientId: string | undefined
  /** The `_ga_<stream>` session id (the session's start, in seconds). */
  sessionId: number | undefined
}

/** `_ga_` + the measurement id without `G-`: `G-ABC123` → `_ga_ABC123`. */
export function sessionCookieName (measurementId: string): string {
  return `_ga_${measurementId.slice(2)}`
}

function cookieText (header: unknown): string {
  if (typeof header === 'string') return header.length > MAX_COOKIE_HEADER_LENGTH ? header.slice(0, MAX_COOKIE_HEADER_LENGTH) : header
  if (Array.isArray(header)) {
    let text = ''
    for (const part of header) {
      if (typeof part !== 'string') continue
      text += text.length === 0 ? part : `; ${part}`
      if (text.length >= MAX_COOKIE_HEADER_LENGTH) return text.slice(0, MAX_COOKIE_HEADER_LENGTH)
    }
    return text
  }
  return ''
}

function parseClientId (value: string): string | undefined {
  if (value.length > MAX_COOKIE_VALUE_LENGTH) return undefined
  return GA_CLIENT.exec(value)?.[1]
}

function parseSessionId (value: string): number | undefined {
  if (value.length > MAX_COOKIE_VALUE_LENGTH) return undefined
  const digits = GS2_SESSION.exec(value)?.[1] ?? GS1_SESSION.exec(value)?.[1]
  if (digits === undefined) return undefined
  const id = Number(digits)
  return id >= 1 ? id : undefined
}

/**
 * Finds `_ga` and `sessionCookie` in a Cookie header. The first occurrence of each wins
 * (browsers send the most specific path first). Unusable values count as absent.
 */
export function readGaCookies (header: unknown, sessionCookie: string): GaCookies {
  const result: GaCookies = { clientId: undefined, sessionId: undefined }
  const text = cookieText(header)
  if (text.length === 0) return result
  let clientSeen = false
  let sessionSeen = false
  let start = 0
  while (start < text.length && !(clientSeen && sessionSeen)) {
    let end = text.indexOf(';', start)
    if (end === -1) end = text.length
    let at = start
    while (at < end && text.charCodeAt(at) === 32) at++
    if (!clientSeen && text.startsWith('_ga=', at)) {
      clientSeen = true
      result.clientId = parseClientId(text.slice(at + 4, end).trim())
    } else if (!sessionSeen && text.startsWith(sessionCookie, at) && text.charCodeAt(at + sessionCookie.length) === 61) {
      sessionSeen = true
      result.sessionId = parseSessionId(text.slice(at + sessionCookie.length + 1, end).trim())
    }
    start = end + 1
  }
  return result
}
