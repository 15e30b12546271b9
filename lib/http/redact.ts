// Collectors put credentials in URLs (GA4's `api_secret` is a query parameter) and in headers
// (webhook signatures, bearer tokens). Everything the delivery engine logs, throws or reports goes
// through this module first, so a secret never reaches a log line, an error message or stats().

export const REDACTED = '[REDACTED]'

// Compared after lower-casing and removing `-`, `_`, `.` and spaces, so `api_secret`, `Api-Secret`
// and `apiSecret` are one name. Redacting a harmless parameter costs a little debugging comfort;
// missing a secret one leaks a credential, so the list errs towards redacting.
const SECRET_PARTS = ['secret', 'token', 'passw', 'signature', 'auth', 'credential', 'apikey', 'privatekey', 'accesskey', 'session', 'cookie']
const SECRET_NAMES = new Set(['key', 'sig', 'pwd', 'pass', 'code', 'hmac'])

/** Whether a query parameter or header of this name may carry a credential. */
export function isSecretName (name: string): boolean {
  const normalised = safeDecode(name).toLowerCase().replace(/[-_.\s]/g, '')
  if (SECRET_NAMES.has(normalised) || normalised.endsWith('key') || normalised.endsWith('sig')) return true
  for (const part of SECRET_PARTS) {
    if (normalised.includes(part)) return true
  }
  return false
}

// `scheme://user:pass@host` anywhere in a text. Anchored on `://`, not on the scheme: a scheme
// pattern would be retried from every letter of a long word (quadratic on hostile response text).
const USERINFO = /(:\/\/)[^\s/?#@]+@/g
// A query parameter: the separator, its name and its value up to the next separator.
const PARAM = /([?&;])([^=&;#?\s]+)=([^&;#\s]*)/g

/**
 * A path (or URL) safe to log: the value of every query parameter whose name looks like a credential
 * (api_secret, secret, key, token, signature, password, auth…) becomes `[REDACTED]`, and so does any
 * `user:pass@` in a URL. `/mp/collect?measurement_id=G-1&api_secret=abc` →
 * `/mp/collect?measurement_id=G-1&api_secret=[REDACTED]`.
 */
export function redactPath (path: string): string {
  return String(path)
    .replace(USERINFO, `$1${REDACTED}@`)
    .replace(PARAM, (match: string, separator: string, name: string) =>
      isSecretName(name) ? `${separator}${name}=${REDACTED}` : match)
}

/**
 * The secret values a request carries (query parameters and headers whose names look like
 * credentials), in the raw and decoded forms, so free text (a response body echoing the request,
 * an error message) can be scrubbed of them too. Values shorter than 4 characters are left out:
 * replacing every "1" in a text would hide more than it protects.
 */
export function secretValues (path: string, headers?: Record<string, string>): string[] {
  const values = new Set<string>()
  const add = (value: string): void => {
    if (value.length >= 4) values.add(value)
    const decoded = safeDecode(value)
    if (decoded.length >= 4) values.add(decoded)
  }
  for (const match of String(path).matchAll(PARAM)) {
    if (isSecretName(match[2])) add(match[3])
  }
  const userinfo = /[a-z][a-z0-9+.-]*:\/\/([^\s/?#@]+)@/gi
  for (const match of String(path).matchAll(userinfo)) {
    add(match[1])
    for (const part of match[1].split(':')) add(part)
  }
  if (headers !== undefined) {
    for (const name of Object.keys(headers)) {
      if (isSecretName(name) || name.toLowerCase() === 'authorization') {
        const value = String(headers[name])
        add(value)
        // `Bearer abc`, `v1,sig1 v1,sig2`: the credential is a part of the value.
        for (const part of value.split(/[\s,]+/)) add(part)
      }
    }
  }
  // Longest first, so a value containing a shorter one is replaced whole.
  return [...values].sort((a, b) => b.length - a.length)
}

/**
 * Free text safe to log: URL credentials and secret query parameters redacted as in `redactPath`,
 * every known secret value replaced, control characters removed, cut at `maxLength` characters.
 */
export function redactText (text: string, secrets: readonly string[] = [], maxLength = 500): string {
  let out = redactPath(String(text))
  for (const secret of secrets) out = out.split(secret).join(REDACTED)
  out = out.replace(/[\u0000-\u001f\u007f]+/g, ' ')
  return out.length > maxLength ? `${out.slice(0, maxLength)}…` : out
}

function safeDecode (value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '))
  } catch {
    return value
  }
}
