import type { AnalyticsEvent } from '../../event.js'
import { applyIpPolicy, type IpPolicy } from '../../privacy/ip.js'
import { cleanText, CRAWLER_COLUMN_NAMES, crawlerValues, propertiesJSON, VISIT_COLUMN_NAMES, visitTexts } from '../warehouse/common.js'

/** A table name for SQL: each part of an already checked `name` or `schema.name` in double quotes. */
export function quoteTable (table: string): string {
  return table.split('.').map((part) => `"${part}"`).join('.')
}

/**
 * The visitor, visit and country columns (the release that brought visits): `createTable` adds
 * those a table made before lacks. A row without a visit holds '' in the text columns and NULL in
 * visit_id and visit_started_at, which `count(DISTINCT …)` skips.
 */
const VISIT_COLUMN_TYPES: Readonly<Record<typeof VISIT_COLUMN_NAMES[number], string>> = {
  visitor_id: "VARCHAR NOT NULL DEFAULT ''",
  visit_id: 'UUID',
  visit_started_at: 'TIMESTAMPTZ',
  visit_landing_path: "VARCHAR NOT NULL DEFAULT ''",
  visit_channel: "VARCHAR NOT NULL DEFAULT ''",
  visit_source: "VARCHAR NOT NULL DEFAULT ''",
  visit_medium: "VARCHAR NOT NULL DEFAULT ''",
  visit_campaign: "VARCHAR NOT NULL DEFAULT ''",
  visit_term: "VARCHAR NOT NULL DEFAULT ''",
  visit_content: "VARCHAR NOT NULL DEFAULT ''",
  visit_click_id: "VARCHAR NOT NULL DEFAULT ''",
  country: "VARCHAR NOT NULL DEFAULT ''"
}
/** The crawler columns (the release that named crawlers): '' and NULL for a client that is not a bot. */
const CRAWLER_COLUMN_TYPES: Readonly<Record<typeof CRAWLER_COLUMN_NAMES[number], string>> = {
  client_crawler_name: "VARCHAR NOT NULL DEFAULT ''",
  client_crawler_operator: "VARCHAR NOT NULL DEFAULT ''",
  client_crawler_purpose: "VARCHAR NOT NULL DEFAULT ''",
  client_crawler_verified: 'BOOLEAN'
}
/** Every column added after the first release, in table order: createTable adds those a table lacks. */
export const DUCKDB_VISIT_COLUMNS = [
  ...VISIT_COLUMN_NAMES.map((column) => [column, VISIT_COLUMN_TYPES[column]] as const),
  ...CRAWLER_COLUMN_NAMES.map((column) => [column, CRAWLER_COLUMN_TYPES[column]] as const)
]

/** The columns in the order `duckdbRow` writes them, which is the table's order: the appender fills them by position. */
export const DUCKDB_COLUMNS = [
  'id', 'timestamp', 'type', 'event_name', 'action_name', 'client_ip', 'locale', 'hostname', 'user_id',
  'matched_pattern', 'url', 'path', 'method', 'user_agent', 'referrer', 'duration_ms', 'status_code',
  'revenue_minor', 'revenue_currency', 'client_browser', 'client_browser_version', 'client_os',
  'client_os_version', 'client_device', 'client_bot', 'properties', ...VISIT_COLUMN_NAMES, ...CRAWLER_COLUMN_NAMES
] as const

/**
 * The table `createTable` makes and schema/duckdb.sql ships: the PostgreSQL table's columns in
 * DuckDB's types. No primary key and no index: DuckDB keeps a min/max per column for every row
 * group, and rows arrive in time order, so a time range skips the row groups outside it without an
 * index, while an index on `id` would cost memory and slow every append. A batch is one
 * transaction in a database that has no network between it and the app, so no acknowledgement can
 * be lost and no retry can store a batch twice.
 */
export function duckdbTableDDL (table: string): string {
  const name = quoteTable(table)
  return `CREATE TABLE IF NOT EXISTS ${name} (
  id                     UUID NOT NULL,
  timestamp              TIMESTAMPTZ NOT NULL,
  type                   VARCHAR NOT NULL,
  event_name             VARCHAR NOT NULL DEFAULT '',
  action_name            VARCHAR NOT NULL DEFAULT '',
  client_ip              VARCHAR NOT NULL DEFAULT '',
  locale                 VARCHAR NOT NULL DEFAULT '',
  hostname               VARCHAR NOT NULL DEFAULT '',
  user_id                VARCHAR NOT NULL DEFAULT '',
  matched_pattern        VARCHAR NOT NULL DEFAULT '',
  url                    VARCHAR NOT NULL DEFAULT '',
  path                   VARCHAR NOT NULL DEFAULT '',
  method                 VARCHAR NOT NULL DEFAULT '',
  user_agent             VARCHAR NOT NULL DEFAULT '',
  referrer               VARCHAR NOT NULL DEFAULT '',
  duration_ms            DOUBLE NOT NULL DEFAULT 0,
  status_code            SMALLINT NOT NULL DEFAULT 0,
  revenue_minor          BIGINT,
  revenue_currency       VARCHAR,
  client_browser         VARCHAR NOT NULL DEFAULT '',
  client_browser_version VARCHAR NOT NULL DEFAULT '',
  client_os              VARCHAR NOT NULL DEFAULT '',
  client_os_version      VARCHAR NOT NULL DEFAULT '',
  client_device          VARCHAR NOT NULL DEFAULT '',
  client_bot             BOOLEAN NOT NULL DEFAULT false,
  properties             VARCHAR NOT NULL DEFAULT '{}',
${DUCKDB_VISIT_COLUMNS.map(([column, type]) => `  ${column.padEnd(22)} ${type}`).join(',\n')}
);
`
}

/**
 * The statements that add the visit columns to a table made before them. DuckDB's ALTER takes one
 * column at a time and no constraint ("Adding columns with constraints not yet supported"), so an
 * added column has its default but not NOT NULL: the collector never writes NULL into those.
 */
export function duckdbAddColumns (table: string, missing: readonly string[]): string[] {
  return DUCKDB_VISIT_COLUMNS.filter(([column]) => missing.includes(column))
    .map(([column, type]) => `ALTER TABLE ${quoteTable(table)} ADD COLUMN IF NOT EXISTS ${column} ${type.replace(' NOT NULL', '')}`)
}

/**
 * One event as one line: a JSON array of the column values in `DUCKDB_COLUMNS` order, text or null,
 * written at `collect` time. The appender hands each text to DuckDB, which casts it to the column's
 * type (UUID, TIMESTAMPTZ, BIGINT…), so a BIGINT of minor units keeps all its digits.
 */
export function duckdbRow (event: Readonly<AnalyticsEvent>, ip: IpPolicy): string {
  const client = event.client
  const revenue = event.revenue
  const visit = event.visit
  return JSON.stringify([
    event.id,
    event.timestamp.toISOString(),
    cleanText(event.type),
    cleanText(event.eventName),
    cleanText(event.actionName),
    cleanText(applyIpPolicy(event.clientIP, ip)),
    cleanText(event.locale),
    cleanText(event.hostname),
    cleanText(event.userId),
    cleanText(event.matchedPattern),
    cleanText(event.url),
    cleanText(event.path),
    cleanText(event.method),
    cleanText(event.userAgent),
    cleanText(event.referrer),
    String(event.durationMs),
    String(event.statusCode),
    revenue === undefined ? null : revenue.minor.toString(),
    revenue === undefined ? null : revenue.currency,
    cleanText(client.browser),
    cleanText(client.browserVersion),
    cleanText(client.os),
    cleanText(client.osVersion),
    cleanText(client.device),
    client.bot ? 'true' : 'false',
    propertiesJSON(event.properties),
    cleanText(event.visitorId),
    visit === null ? null : visit.id,
    visit === null ? null : visit.startedAt.toISOString(),
    ...visitTexts(visit).map(cleanText),
    cleanText(event.country),
    ...crawlerTexts(client)
  ]) + '\n'
}

function crawlerTexts (client: Readonly<AnalyticsEvent['client']>): Array<string | null> {
  const [name, operator, purpose, verified] = crawlerValues(client)
  return [name, operator, purpose, verified === null ? null : String(verified)]
}
