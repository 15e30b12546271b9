import { Money } from '../money.js'
import { wellFormed } from '../text.js'
import type { Reader, Row } from './readers.js'
import {
  breakdownQuery, DIMENSIONS, FILTER_COLUMNS, realtimeQuery, revenueQuery, timeseriesQuery, visitorsQuery, visitsQuery,
  type Dimension, type FilterName, type Filters, type Metric, type View
} from './sql.js'

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
/** The longest range a view may ask for: a year (a leap year's 366 days). */
export const MAX_RANGE_DAYS = 366
/** Hourly points only up to a month: 31 × 24 = 744 points is the most a chart draws. */
export const MAX_HOURLY_RANGE_DAYS = 31
/** The default range: the last 30 days, today included. */
export const DEFAULT_RANGE_DAYS = 30
export const DEFAULT_BREAKDOWN_LIMIT = 10
export const MAX_BREAKDOWN_LIMIT = 100
/** Filter values are paths and names: the event fields' own cap. */
export const MAX_FILTER_LENGTH = 2048
/** "Right now": visitors seen in the last five minutes. */
export const REALTIME_WINDOW_MS = 5 * 60_000

/** A request the API cannot answer as asked (400, with the reason). */
export class BadView extends Error {}

/** The query string every view route shares: the period and the filters. */
export interface ViewQuery extends Partial<Record<FilterName, string>> {
  from?: string
  to?: string
}

/** The JSON Schema of `ViewQuery`, for Fastify's validation (a bad value is a 400 before any query). */
export const VIEW_QUERY_PROPERTIES = {
  from: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
  to: { type: 'string', pattern: '^\\d{4}-\\d{2}-\\d{2}$' },
  ...Object.fromEntries(Object.keys(FILTER_COLUMNS).map((name) => [name, { type: 'string', minLength: 1, maxLength: MAX_FILTER_LENGTH }]))
} as const

function utcDay (text: string): number {
  const ms = Date.parse(`${text}T00:00:00.000Z`)
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text) throw new BadView(`${text} is not a date (YYYY-MM-DD)`)
  return ms
}

/** The view of a request: whole UTC days from `from` to `to` inclusive, and the filters given. */
export function viewOf (query: ViewQuery, now = Date.now()): View {
  const today = Math.floor(now / DAY_MS) * DAY_MS
  const to = query.to === undefined ? today : utcDay(query.to)
  const from = query.from === undefined ? to - (DEFAULT_RANGE_DAYS - 1) * DAY_MS : utcDay(query.from)
  if (from > to) throw new BadView('from is after to')
  if ((to - from) / DAY_MS + 1 > MAX_RANGE_DAYS) throw new BadView(`the range is longer than ${MAX_RANGE_DAYS} days`)
  const filters: Filters = {}
  for (const name of Object.keys(FILTER_COLUMNS) as FilterName[]) {
    const value = query[name]
    if (value !== undefined) filters[name] = wellFormed(value)
  }
  return { from: new Date(from), to: new Date(to + DAY_MS), filters }
}

export interface RevenueTotal {
  currency: string
  /** Minor units as a decimal string: a sum of int64 can pass 2^53. */
  minor: string
  /** Major units, as `Money.toDecimalString()` gives them ("29.99"). */
  amount: string
  orders: number
}

export interface Summary {
  visitors: number
  visits: number
  pageViews: number
  viewsPerVisit: number
  /** Percent of the visits with a page view that were one page view and nothing else. */
  bounceRate: number
  /** Average seconds from a visit's first event to its last. */
  visitDurationSeconds: number
  revenue: RevenueTotal[]
}

export interface BreakdownRow {
  value: string
  visitors: number
  visits: number
  pageViews: number
  /** Events of the row: actions and custom events for `events`, every event for the others. */
  events: number
}

export interface TimeseriesPoint {
  /** The bucket's start, ISO 8601 UTC. */
  time: string
  value: number
}

const count = (value: unknown): number => value === null || value === undefined ? 0 : Number(value)

/** `numerator / denominator` rounded half up to `digits` decimals, in integers (no 1.005 → 1.00). */
function ratio (numerator: number, denominator: number, digits: number): number {
  if (denominator === 0) return 0
  const scale = 10 ** digits
  return Math.floor((2 * numerator * scale + denominator) / (2 * denominator)) / scale
}

export async function summary (reader: Reader, view: View): Promise<Summary> {
  const d = reader.dialect
  const [[visitors], [visits], revenue] = await Promise.all([
    reader.query(visitorsQuery(d, view)),
    reader.query(visitsQuery(d, view)),
    reader.query(revenueQuery(d, view))
  ])
  const visitCount = count(visits.visits)
  const pageViews = count(visits.views)
  return {
    visitors: count(visitors.visitors),
    visits: visitCount,
    pageViews,
    viewsPerVisit: ratio(pageViews, visitCount, 2),
    bounceRate: ratio(100 * count(visits.bounces), count(visits.with_page), 1),
    visitDurationSeconds: ratio(count(visits.seconds), count(visits.visits), 0),
    revenue: revenue.map(revenueTotal)
  }
}

function revenueTotal (row: Row): RevenueTotal {
  const currency = String(row.currency).trim()
  const minor = BigInt(String(row.minor).replace(/\.0*$/, ''))
  let amount: string
  try {
    amount = Money.fromMinor(minor, currency).toDecimalString()
  } catch {
    amount = minor.toString() // a currency this runtime's Intl does not know: minor units as they are
  }
  return { currency, minor: minor.toString(), amount, orders: count(row.orders) }
}

export async function timeseries (reader: Reader, view: View, metric: Metric, interval: 'hour' | 'day'): Promise<TimeseriesPoint[]> {
  if (interval === 'hour' && (view.to.getTime() - view.from.getTime()) / DAY_MS > MAX_HOURLY_RANGE_DAYS) {
    throw new BadView(`hourly points cover at most ${MAX_HOURLY_RANGE_DAYS} days: choose interval=day`)
  }
  const rows = await reader.query(timeseriesQuery(reader.dialect, view, metric, interval))
  const values = new Map(rows.map((row) => [count(row.bucket), count(row.value)]))
  const step = interval === 'hour' ? HOUR_MS : DAY_MS
  const points: TimeseriesPoint[] = []
  // Every bucket of the range, zero where nothing happened: a chart's gaps are real zeros.
  for (let at = view.from.getTime(); at < view.to.getTime(); at += step) {
    points.push({ time: new Date(at).toISOString(), value: values.get(at) ?? 0 })
  }
  return points
}

export async function breakdown (reader: Reader, view: View, dimension: Dimension, limit: number): Promise<BreakdownRow[]> {
  const rows = await reader.query(breakdownQuery(reader.dialect, view, dimension, limit))
  return rows.map((row) => ({
    value: String(row.value ?? ''),
    visitors: count(row.visitors),
    visits: count(row.visits),
    pageViews: count(row.page_views),
    events: count(row.events)
  }))
}

export async function realtime (reader: Reader, now = Date.now()): Promise<{ visitors: number, since: string }> {
  const since = new Date(now - REALTIME_WINDOW_MS)
  const [row] = await reader.query(realtimeQuery(reader.dialect, since))
  return { visitors: count(row?.visitors), since: since.toISOString() }
}

export function isDimension (value: string): value is Dimension {
  return Object.hasOwn(DIMENSIONS, value)
}
