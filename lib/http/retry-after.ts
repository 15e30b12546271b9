// Retry-After (RFC 9110 §10.2.3) is either delay-seconds (`1*DIGIT`) or an HTTP-date. The three
// HTTP-date forms (IMF-fixdate, RFC 850, asctime) all carry a weekday name and an `hh:mm:ss` time;
// requiring both keeps `Date.parse`'s leniency out (it reads "12" as the year 2001).
const DELAY_SECONDS = /^\s*(\d{1,10})\s*$/
const HTTP_DATE = /^\s*(mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s.*\d{1,2}:\d{2}:\d{2}/i

/**
 * Milliseconds to wait according to a Retry-After header value, or undefined when the value is
 * missing or not valid. A date in the past gives 0. The caller caps the result (`retry.maxDelayMs`).
 */
export function parseRetryAfter (value: string | string[] | undefined, nowMs: number): number | undefined {
  // A repeated header arrives as an array: the first one is what the server meant first.
  const text = Array.isArray(value) ? value[0] : value
  if (typeof text !== 'string') return undefined
  const seconds = DELAY_SECONDS.exec(text)
  if (seconds !== null) return Number(seconds[1]) * 1000
  if (!HTTP_DATE.test(text)) return undefined
  // asctime carries no zone; HTTP dates are always GMT, Date.parse would read it as local time.
  const at = Date.parse(/gmt|utc/i.test(text) ? text : `${text} GMT`)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - nowMs)
}
