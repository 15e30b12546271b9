import { wellFormed } from '../../text.js'
import { propertyValue, type AnalyticsEvent, type PropertyValue, type Visit } from '../../event.js'
import type { ClientInfo } from '../../client.js'
import type { BatchingOptions, HttpResponse, Verdict } from '../../batch/types.js'
import type { IpPolicy } from '../../privacy/ip.js'
import { BATCHING_OPTION_KEYS } from '../options.js'
import { TransportError } from '../../http/classify.js'
import { redactText } from '../../http/redact.js'

/** The batching options a warehouse collector takes: those of the engine, without the HTTP dispatcher. */
export type WarehouseBatchingOptions = Omit<BatchingOptions, 'dispatcher'>

/** The engine options a warehouse collector accepts: all but the HTTP `dispatcher`, which it refuses as unknown. */
export const WAREHOUSE_BATCHING_KEYS = BATCHING_OPTION_KEYS.filter((key) => key !== 'dispatcher')

// A database keeps what it is given for years: truncated unless the user asks for more.
export const DEFAULT_WAREHOUSE_IP_POLICY: IpPolicy = 'truncate'

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/

/**
 * Checks a `table` or `schema.table` name and returns its parts. Names are restricted to plain
 * identifiers (no quoting games): they are interpolated into DDL and INSERT statements.
 */
export function tableParts (value: unknown, invalid: (message: string) => Error, allowSchema: boolean): string[] {
  if (typeof value !== 'string') throw invalid('table must be a string')
  const parts = value.split('.')
  if (parts.length > (allowSchema ? 2 : 1) || !parts.every((part) => IDENTIFIER.test(part))) {
    throw invalid(`table must be ${allowSchema ? '"name" or "schema.name"' : 'a name'} of letters, digits and _ (not starting with a digit), at most 63 each`)
  }
  return parts
}

const MIN_INT64 = -(2n ** 63n)
const MAX_INT64 = 2n ** 63n - 1n
/** HTTP statuses fit a smallint; anything larger is not a status. */
export const MAX_STATUS_CODE = 32_767

/** The instants a table's time columns can hold, in epoch milliseconds (inclusive). */
export interface TimeRange {
  min: number
  max: number
}

/**
 * Every instant a `Date` can hold: PostgreSQL's timestamptz spans more (4713 BC to 294276 AD), so
 * its collector leaves the check to the server, whose refusal isolates the one row (year 0).
 */
export const ANY_TIME: TimeRange = { min: -8.64e15, max: 8.64e15 }

/** Why an event cannot become a row, or undefined when it can. */
export function unstorable (event: Readonly<AnalyticsEvent>, time: TimeRange): string | undefined {
  const at = event.timestamp.getTime()
  if (!(at >= time.min && at <= time.max)) return `timestamp ${describeTime(at)} is outside what the table stores (${describeRange(time)})`
  const started = event.visit?.startedAt.getTime()
  if (started !== undefined && !(started >= time.min && started <= time.max)) {
    return `visit.startedAt ${describeTime(started)} is outside what the table stores (${describeRange(time)})`
  }
  if (event.statusCode > MAX_STATUS_CODE) return `statusCode ${event.statusCode} does not fit the status_code column`
  const minor = event.revenue?.minor
  if (minor !== undefined && (minor < MIN_INT64 || minor > MAX_INT64)) return 'revenue does not fit a 64-bit integer of minor units'
  return undefined
}

/**
 * Properties as JSON a database accepts, each value with its type (a number stays a JSON number, so
 * `(properties->>'qty')::int` in PostgreSQL and `JSONExtractFloat` in ClickHouse work): PostgreSQL's
 * jsonb refuses `\u0000` and lone surrogates (both valid in a JS string). The plugin bounds every
 * string it builds (lib/text.ts); an event handed to the collector directly gets the same rule here,
 * through the same function. A value of no property type (a NaN or an object that `beforeSend` or a
 * direct caller put there) is left out: JSON would write NaN as `null` and an object as a nested one.
 */
export function propertiesJSON (properties: Readonly<Record<string, PropertyValue>>): string {
  let clean: Record<string, PropertyValue> | undefined
  // A null-prototype copy: a key cleaned into `__proto__` is then stored as data, not lost to a prototype setter.
  const copy = (): Record<string, PropertyValue> => Object.assign(Object.create(null) as Record<string, PropertyValue>, properties)
  for (const key in properties) {
    const value = properties[key]
    const cleanKey = cleanText(key)
    const cleanValue = typeof value === 'string' ? cleanText(value) : propertyValue(value)
    if (cleanValue === undefined) {
      clean ??= copy()
      delete clean[key]
      continue
    }
    if (cleanKey !== key || cleanValue !== value) {
      clean ??= copy()
      delete clean[key]
      clean[cleanKey] = cleanValue
    }
  }
  return JSON.stringify(clean ?? properties)
}

/**
 * The visitor, visit and country columns (added in the release that brought visits), in the order
 * both databases store them; each database gives them its own types.
 */
export const VISIT_COLUMN_NAMES = [
  'visitor_id', 'visit_id', 'visit_started_at', 'visit_landing_path', 'visit_channel', 'visit_source',
  'visit_medium', 'visit_campaign', 'visit_term', 'visit_content', 'visit_click_id', 'country'
] as const

/**
 * The crawler columns (added in the release that named crawlers, docs/crawlers.md): '' and NULL for
 * a client that is not a bot; `client_crawler_verified` is NULL when the operator's ranges are unknown.
 */
export const CRAWLER_COLUMN_NAMES = [
  'client_crawler_name', 'client_crawler_operator', 'client_crawler_purpose', 'client_crawler_verified'
] as const

/** Name, operator, purpose ('' when not a crawler) and verified (null when not a crawler or unknown). */
export function crawlerValues (client: Readonly<ClientInfo>): [string, string, string, boolean | null] {
  // `?? null`: an event a custom caller built may carry a client without the field.
  const crawler = client.crawler ?? null
  if (crawler === null) return ['', '', '', null]
  return [wellFormed(crawler.name), wellFormed(crawler.operator), crawler.purpose, crawler.verified]
}

/**
 * The values of the visit's text columns, `visit_landing_path` to `visit_click_id` in
 * {@link VISIT_COLUMN_NAMES} order: '' for an event without a visit (a job's, `visits: false`).
 */
export function visitTexts (visit: Readonly<Visit> | null): string[] {
  if (visit === null) return ['', '', '', '', '', '', '', '']
  return [visit.landingPath, visit.channel, visit.source, visit.medium, visit.campaign, visit.term, visit.content, visit.clickId]
}

/** Removes NUL (no PostgreSQL text value may hold it) and makes the string well-formed UTF-16: lib/text.ts's rule. */
export const cleanText = wellFormed

function describeTime (at: number): string {
  return Number.isNaN(at) ? 'Invalid Date' : new Date(at).toISOString()
}

function describeRange (time: TimeRange): string {
  return `${new Date(time.min).toISOString()} to ${new Date(time.max).toISOString()}`
}

/** The status a transport answers with when the database refused the rows' data (a bad value, a constraint). */
export const DATA_REFUSED = 422

/** The header of a stored answer that counts the rows refused alone after a split. */
export const REJECTED_HEADER = 'x-rejected-rows'

/** The response shapes the database transports answer with: stored, or refused with a reason. */
export const STORED: HttpResponse = { statusCode: 200, headers: {}, body: '' }

/** Refused for a reason that another attempt or a split cannot change (a missing table, a password). */
export function refused (detail: string): HttpResponse {
  return { statusCode: 400, headers: {}, body: redactText(detail, [], 300) }
}

/** Refused for the rows' data (a value the column cannot take): a split isolates the rows at fault. */
export function refusedRows (detail: string): HttpResponse {
  return { statusCode: DATA_REFUSED, headers: {}, body: redactText(detail, [], 300) }
}

/** How the warehouse adapters read a transport's answer (transports never send HTTP). */
export function interpretStored (response: HttpResponse): Verdict {
  if (response.statusCode !== 200) return { outcome: 'rejected', detail: response.body }
  const rejected = Number(response.headers[REJECTED_HEADER] ?? 0)
  return rejected > 0 ? { outcome: 'delivered', rejected, detail: response.body } : { outcome: 'delivered' }
}

export function retryable (code: string, message: string): TransportError {
  return new TransportError('network', code, redactText(message, [], 300))
}

/** Settles with `promise`, or rejects when `signal` fires first (the promise is left to settle unobserved). */
export function withSignal<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('deadline reached'))
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('deadline reached'))
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
  })
}

/**
 * How long a start without `createTable` waits for its table check. A table that is not there then
 * fails start (`app.ready()`) with the fix, instead of every batch being refused after a clean start;
 * a server that has not answered by then is checked in the background (the first batch reports what
 * is wrong), so a database still down at start delays the app by at most this.
 */
export const TABLE_CHECK_WAIT_MS = 2000

/** The table is not there and the collector may not create it. */
export class MissingTableError extends Error {}

/**
 * Waits at most `waitMs` for `check`. Rejects only with its MissingTableError; any other failure, or
 * one after the wait, is left to the batches to report.
 */
export async function tableCheckAtStart (check: Promise<void>, waitMs = TABLE_CHECK_WAIT_MS): Promise<void> {
  let waiting = true
  let timer: NodeJS.Timeout | undefined
  const checked = check.catch((error: unknown) => {
    if (waiting && error instanceof MissingTableError) throw error
  })
  const gaveUp = new Promise<void>((resolve) => { timer = setTimeout(resolve, waitMs) })
  try {
    await Promise.race([checked, gaveUp])
  } finally {
    waiting = false
    clearTimeout(timer)
  }
}
