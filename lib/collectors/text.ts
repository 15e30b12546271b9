// String helpers the HTTP collectors share. `truncateCodePoints` (lib/text.ts) counts code
// points and `redactText` (lib/http/redact.ts) makes text safe to log; these do what neither
// does: cut to a UTF-8 byte budget or a JavaScript length, and make a value sendable as an HTTP header.

/**
 * Cuts a string to at most `max` UTF-16 units without splitting a surrogate pair: the length a
 * destination written in JavaScript checks (`string.length`, zod's `.max()`), where an emoji counts two.
 */
export function truncateUtf16 (value: string, max: number): string {
  if (value.length <= max) return value
  const last = value.charCodeAt(max - 1)
  // A high surrogate at the edge would leave half a pair: cut before it.
  return value.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max)
}

/**
 * Cuts a string to at most `maxBytes` of UTF-8 without splitting a code point.
 * A lone surrogate counts 3 bytes, as Node encodes it (U+FFFD).
 */
export function truncateUtf8 (value: string, maxBytes: number): string {
  // Every UTF-16 unit is at most 3 UTF-8 bytes: short strings cost one comparison.
  if (value.length * 3 <= maxBytes) return value
  let bytes = 0
  let i = 0
  const length = value.length
  while (i < length) {
    const code = value.charCodeAt(i)
    let size = 3
    let units = 1
    if (code < 0x80) size = 1
    else if (code < 0x800) size = 2
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < length) {
      const next = value.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) { size = 4; units = 2 }
    }
    if (bytes + size > maxBytes) return value.slice(0, i)
    bytes += size
    i += units
  }
  return value
}

// Header values are sent as Latin-1 bytes: CR/LF would split the header (injection), other
// control characters and code points above U+00FF make undici refuse the whole request.
const UNSAFE_HEADER_CHARS = /[^\x20-\x7e\x80-\xff]/g
const UNSAFE_HEADER_CHAR = /[^\x20-\x7e\x80-\xff]/

/** Whether a header value has a character that cannot be sent as is (a control character, CR/LF, or above U+00FF). */
export function hasUnsafeHeaderChars (value: string): boolean {
  return UNSAFE_HEADER_CHAR.test(value)
}

/** Removes control characters (CR and LF included) and anything not sendable as a header byte. */
export function sanitizeHeaderValue (value: string): string {
  UNSAFE_HEADER_CHARS.lastIndex = 0
  if (!UNSAFE_HEADER_CHARS.test(value)) return value.trim()
  return value.replace(UNSAFE_HEADER_CHARS, '').trim()
}
