/**
 * The dashboard's queries, written once and spelled per database. Every value from the request
 * reaches the database as a bind parameter (PostgreSQL, DuckDB) or through `Params.literal`
 * (ClickHouse 18.16, which has no query parameters): never by string concatenation.
 */

export type DialectName = 'duckdb' | 'postgres' | 'clickhouse'

/** The values of one query, collected as its text is built. */
export class Params {
  readonly values: string[] = []
  readonly #dialect: DialectName

  constructor (dialect: DialectName) {
    this.#dialect = dialect
  }

  /** A text value: `$n` (bound by the driver), or a ClickHouse string literal. */
  text (value: string): string {
    if (this.#dialect === 'clickhouse') return clickhouseString(value)
    this.values.push(value)
    return `$${this.values.length}`
  }

  /** An instant, compared with the timestamp columns. */
  time (value: Date): string {
    if (this.#dialect === 'clickhouse') {
      // 'YYYY-MM-DD hh:mm:ss' is the one form every ClickHouse parses, 18.16 included; ranges are whole seconds.
      return `toDateTime(${clickhouseString(value.toISOString().slice(0, 19).replace('T', ' '))}, 'UTC')`
    }
    this.values.push(value.toISOString())
    return `$${this.values.length}::${this.#dialect === 'postgres' ? 'timestamptz' : 'TIMESTAMPTZ'}`
  }
}

/**
 * A ClickHouse string literal: the server reads backslash escapes in quoted strings, so a backslash
 * and a quote are escaped, and the control characters written as escapes (the dashboard's values
 * are cleaned text: no NUL, well-formed).
 */
export function clickhouseString (value: string): string {
  return `'${value.replace(/[\\'\u0000-\u001f]/g, (c) => c === '\\' ? '\\\\' : c === "'" ? "\\'" : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)}'`
}

/** How one database spells the pieces the queries share. */
export interface Dialect {
  name: DialectName
  /** The table as the FROM clause names it (ClickHouse adds FINAL: a retried insert is collapsed). */
  from: string
  /** Events of people: in a visit, with a visitor, not a bot. */
  people: string
  /** `count(*)` of the rows where `condition` holds. */
  countIf (condition: string): string
  uniq (column: string): string
  /** Start of the hour or UTC day of `column`, in epoch milliseconds. */
  bucket (interval: 'hour' | 'day', column: string): string
  /** Whole seconds from a group's first event to its last. */
  spanSeconds: string
  /** Rows that carry revenue. */
  hasRevenue: string
  /** `a` when `condition` holds, else `b`. */
  when (condition: string, a: string, b: string): string
}

const SQL_STANDARD = {
  people: "visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot",
  countIf: (condition: string) => `count(*) FILTER (WHERE ${condition})`,
  uniq: (column: string) => `count(DISTINCT ${column})`,
  hasRevenue: 'revenue_minor IS NOT NULL',
  when: (condition: string, a: string, b: string) => `CASE WHEN ${condition} THEN ${a} ELSE ${b} END`
}

export function dialectFor (name: DialectName, table: string): Dialect {
  switch (name) {
    case 'duckdb': return {
      name,
      from: table,
      ...SQL_STANDARD,
      bucket: (interval, column) => `epoch_ms(date_trunc('${interval}', ${column} AT TIME ZONE 'UTC'))`,
      spanSeconds: 'floor(epoch(max(timestamp))) - floor(epoch(min(timestamp)))'
    }
    case 'postgres': return {
      name,
      from: table,
      ...SQL_STANDARD,
      bucket: (interval, column) => `(extract(epoch FROM date_trunc('${interval}', ${column} AT TIME ZONE 'UTC')) * 1000)::bigint`,
      spanSeconds: 'floor(extract(epoch FROM max(timestamp))) - floor(extract(epoch FROM min(timestamp)))'
    }
    case 'clickhouse': return {
      name,
      from: `${table} FINAL`,
      people: "isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0",
      countIf: (condition) => `countIf(${condition})`,
      uniq: (column) => `uniqExact(${column})`,
      bucket: (interval, column) => `toUInt64(toUnixTimestamp(${interval === 'hour' ? 'toStartOfHour' : 'toStartOfDay'}(${column}))) * 1000`,
      spanSeconds: 'toUnixTimestamp(max(timestamp)) - toUnixTimestamp(min(timestamp))',
      hasRevenue: "revenue_currency != ''",
      when: (condition, a, b) => `if(${condition}, ${a}, ${b})`
    }
  }
}

/** The filters a dashboard view can hold, each an equality on one column. */
export const FILTER_COLUMNS = {
  page: 'path',
  channel: 'visit_channel',
  source: 'visit_source',
  campaign: 'visit_campaign',
  country: 'country',
  device: 'client_device'
} as const
export type FilterName = keyof typeof FILTER_COLUMNS
export type Filters = Partial<Record<FilterName, string>>

/** What every dashboard query is limited to: a time range and the view's filters. */
export interface View {
  from: Date
  to: Date
  filters: Filters
}

/** The WHERE clause of a view: the range, then each filter. */
export function viewWhere (view: View, params: Params, ...conditions: string[]): string {
  const parts = [`timestamp >= ${params.time(view.from)}`, `timestamp < ${params.time(view.to)}`, ...conditions]
  for (const name of Object.keys(FILTER_COLUMNS) as FilterName[]) {
    const value = view.filters[name]
    if (value !== undefined) parts.push(`${FILTER_COLUMNS[name]} = ${params.text(value)}`)
  }
  return parts.join(' AND ')
}

/** The breakdown tables: the column (or expression) grouped on, what a row must be, and the tie-break after visitors and visits. */
export const DIMENSIONS = {
  pages: { value: () => 'path', where: () => "type = 'pageview'", then: 'page_views' },
  landing_pages: { value: () => 'visit_landing_path', where: () => undefined, then: undefined },
  channels: { value: () => 'visit_channel', where: () => undefined, then: undefined },
  sources: { value: () => 'visit_source', where: () => undefined, then: undefined },
  campaigns: { value: () => 'visit_campaign', where: (d: Dialect) => d.name === 'clickhouse' ? "visit_campaign != ''" : "visit_campaign <> ''", then: undefined },
  countries: { value: () => 'country', where: (d: Dialect) => d.name === 'clickhouse' ? "country != ''" : "country <> ''", then: undefined },
  devices: { value: () => 'client_device', where: () => undefined, then: 'page_views' },
  browsers: { value: () => 'client_browser', where: () => undefined, then: 'page_views' },
  os: { value: () => 'client_os', where: () => undefined, then: 'page_views' },
  events: { value: (d: Dialect) => d.when("type = 'custom'", 'event_name', 'action_name'), where: () => "type IN ('action', 'custom')", then: 'events' }
} as const satisfies Record<string, { value: (d: Dialect) => string, where: (d: Dialect) => string | undefined, then: string | undefined }>
export type Dimension = keyof typeof DIMENSIONS
export const DIMENSION_NAMES = Object.keys(DIMENSIONS) as Dimension[]

export interface Query {
  sql: string
  values: string[]
}

function build (dialect: Dialect, make: (params: Params) => string): Query {
  const params = new Params(dialect.name)
  const sql = make(params)
  return { sql, values: params.values }
}

/**
 * Visitors of the view. A GROUP BY in a subquery rather than `count(DISTINCT …)`: DuckDB and
 * PostgreSQL run a grouping on every core with a hash table, while an ungrouped DISTINCT aggregate
 * runs on one (PostgreSQL sorts for it): a third of the time on a million events.
 */
export function visitorsQuery (d: Dialect, view: View): Query {
  return build(d, (p) => `SELECT count(*) AS visitors FROM (
  SELECT visitor_id FROM ${d.from} WHERE ${viewWhere(view, p, d.people)} GROUP BY visitor_id
) AS per_visitor`)
}

/**
 * Per visit, folded: the visits, their page views, those with a page view, those that bounced (one
 * page view and nothing else), and the seconds they lasted. Grouping by visit counts the visits
 * without a DISTINCT aggregate. The outer names differ from the inner ones: ClickHouse's aliases are
 * global to a query, and `sum(page_views) AS page_views` would be a cycle.
 */
export function visitsQuery (d: Dialect, view: View): Query {
  return build(d, (p) => `SELECT count(*) AS visits, sum(page_views) AS views, ${d.countIf('page_views > 0')} AS with_page,
  ${d.countIf('page_views > 0 AND events = 1')} AS bounces, sum(seconds) AS seconds
FROM (
  SELECT visit_id, count(*) AS events, ${d.countIf("type = 'pageview'")} AS page_views, ${d.spanSeconds} AS seconds
  FROM ${d.from} WHERE ${viewWhere(view, p, d.people)}
  GROUP BY visit_id
) AS per_visit`)
}

/** Revenue per currency: every event with revenue in the range (a job's too), narrowed by the filters. */
export function revenueQuery (d: Dialect, view: View): Query {
  return build(d, (p) => `SELECT revenue_currency AS currency, sum(revenue_minor) AS minor, count(*) AS orders
FROM ${d.from} WHERE ${viewWhere(view, p, d.hasRevenue)}
GROUP BY revenue_currency ORDER BY currency`)
}

export type Metric = 'visitors' | 'visits' | 'pageViews'
export const METRICS: readonly Metric[] = ['visitors', 'visits', 'pageViews']

export function timeseriesQuery (d: Dialect, view: View, metric: Metric, interval: 'hour' | 'day'): Query {
  const value = metric === 'visitors' ? d.uniq('visitor_id') : metric === 'visits' ? d.uniq('visit_id') : d.countIf("type = 'pageview'")
  return build(d, (p) => `SELECT ${d.bucket(interval, 'timestamp')} AS bucket, ${value} AS value
FROM ${d.from} WHERE ${viewWhere(view, p, d.people)}
GROUP BY bucket ORDER BY bucket`)
}

export function breakdownQuery (d: Dialect, view: View, dimension: Dimension, limit: number): Query {
  const spec = DIMENSIONS[dimension]
  const conditions = [d.people]
  const where = spec.where(d)
  if (where !== undefined) conditions.push(where)
  const order = ['visitors DESC', 'visits DESC', ...(spec.then === undefined ? [] : [`${spec.then} DESC`]), 'value']
  return build(d, (p) => `SELECT ${spec.value(d)} AS value, ${d.uniq('visitor_id')} AS visitors, ${d.uniq('visit_id')} AS visits,
  ${d.countIf("type = 'pageview'")} AS page_views, count(*) AS events
FROM ${d.from} WHERE ${viewWhere(view, p, ...conditions)}
GROUP BY value ORDER BY ${order.join(', ')} LIMIT ${limit}`)
}

/** Visitors with an event since `since`. */
export function realtimeQuery (d: Dialect, since: Date): Query {
  return build(d, (p) => `SELECT ${d.uniq('visitor_id')} AS visitors FROM ${d.from} WHERE timestamp >= ${p.time(since)} AND ${d.people}`)
}
