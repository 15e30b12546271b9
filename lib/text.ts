// Text as it may enter an event: valid Unicode, no NUL, at most a stated number of code points.
// One owner for these rules, so every entry point (automatic events, track(), beforeSend, the
// request.analytics setters, properties) applies the same ones, once.

/** URL, user agent, referrer, path and route pattern are cut to this many code points. */
export const MAX_FIELD_LENGTH = 2048

/** Where a cut is reported: the tracker counts it in `stats().events.truncated` and logs it, rate-limited. */
export interface TextCuts {
  cut (field: string): void
}

/** For callers that have nowhere to report a cut (a collector's own use of the helpers). */
export const UNCOUNTED: TextCuts = Object.freeze({ cut () {} })

// ES2024 string methods, present since Node 20 (V8 11.3); the project compiles against ES2022's lib.
interface WellFormedString {
  isWellFormed (): boolean
  toWellFormed (): string
}

/** Cuts a string to `max` code points without splitting a surrogate pair. */
export function truncateCodePoints (value: string, max: number = MAX_FIELD_LENGTH): string {
  // Length in UTF-16 units bounds the code-point count from above: the common case costs nothing.
  if (value.length <= max) return value
  let units = 0
  let points = 0
  while (units < value.length && points < max) {
    const code = value.charCodeAt(units)
    // A pair only when a low surrogate follows: a lone high surrogate is a code point of its own.
    const next = code >= 0xd800 && code <= 0xdbff ? value.charCodeAt(units + 1) : 0
    units += next >= 0xdc00 && next <= 0xdfff ? 2 : 1
    points++
  }
  return value.slice(0, units)
}

/**
 * `value` as an event may carry it: cut to `max` code points (reported to `cuts` under `field`),
 * lone surrogates replaced by U+FFFD and NUL removed. A lone surrogate cannot be encoded in UTF-8
 * (ClickHouse refuses the whole INSERT, JSON parsers in PostgreSQL and jq refuse the body); NUL is
 * refused by PostgreSQL text and breaks C-string consumers. The cut comes first so a hostile
 * megabyte costs `max` steps; the common, short and valid, string is returned without a copy.
 */
export function boundText (value: string, max: number, field: string, cuts: TextCuts): string {
  if (value.length > max) {
    const cut = truncateCodePoints(value, max)
    if (cut.length !== value.length) {
      cuts.cut(field)
      value = cut
    }
  }
  return wellFormed(value)
}

/** `value` with lone surrogates replaced by U+FFFD and NUL removed; the same string when it has neither. */
export function wellFormed (value: string): string {
  if (!(value as unknown as WellFormedString).isWellFormed()) value = (value as unknown as WellFormedString).toWellFormed()
  if (value.indexOf('\0') !== -1) value = value.replaceAll('\0', '')
  return value
}
