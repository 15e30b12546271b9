import type { AnalyticsEvent } from '../../event.js'
import { applyIpPolicy, type IpPolicy } from '../../privacy/ip.js'
import { cleanText, CRAWLER_COLUMN_NAMES, crawlerValues, propertiesJSON, VISIT_COLUMN_NAMES, visitTexts } from '../warehouse/common.js'

/** The table `createTable` makes and schema/postgres.sql ships, for a given (already checked) name. */
export function postgresTableDDL (table: string): string {
  const name = table.split('.').map(quote).join('.')
  const base = table.slice(table.lastIndexOf('.') + 1)
  return `CREATE TABLE IF NOT EXISTS ${name} (
  id                     uuid PRIMARY KEY,
  timestamp              timestamptz NOT NULL,
  type                   text NOT NULL,
  event_name             text NOT NULL DEFAULT '',
  action_name            text NOT NULL DEFAULT '',
  client_ip              text NOT NULL DEFAULT '',
  locale                 text NOT NULL DEFAULT '',
  hostname               text NOT NULL DEFAULT '',
  user_id                text NOT NULL DEFAULT '',
  matched_pattern        text NOT NULL DEFAULT '',
  url                    text NOT NULL DEFAULT '',
  path                   text NOT NULL DEFAULT '',
  method                 text NOT NULL DEFAULT '',
  user_agent             text NOT NULL DEFAULT '',
  referrer               text NOT NULL DEFAULT '',
  duration_ms            double precision NOT NULL DEFAULT 0,
  status_code            smallint NOT NULL DEFAULT 0,
  revenue_minor          bigint,
  revenue_currency       char(3),
  client_browser         text NOT NULL DEFAULT '',
  client_browser_version text NOT NULL DEFAULT '',
  client_os              text NOT NULL DEFAULT '',
  client_os_version      text NOT NULL DEFAULT '',
  client_device          text NOT NULL DEFAULT '',
  client_bot             boolean NOT NULL DEFAULT false,
  properties             jsonb NOT NULL DEFAULT '{}',
${VISIT_COLUMNS.map(([column, type]) => `  ${column.padEnd(22)} ${type}`).join(',\n')}
);
-- A table made by an earlier release lacks the columns below: these add them (no-ops on a new table).
ALTER TABLE ${name}
${VISIT_COLUMNS.map(([column, type]) => `  ADD COLUMN IF NOT EXISTS ${column} ${type}`).join(',\n')};
CREATE INDEX IF NOT EXISTS ${quote(`${base}_timestamp_idx`)} ON ${name} (timestamp);
CREATE INDEX IF NOT EXISTS ${quote(`${base}_type_timestamp_idx`)} ON ${name} (type, timestamp);
`
}

/**
 * The visitor, visit and country columns, added in the release that brought visits. A row without
 * a visit (a job's event, `visits: false`) holds '' in the text columns and NULL in visit_id and
 * visit_started_at, so `count(DISTINCT visit_id)` skips it.
 */
const VISIT_COLUMN_TYPES: Readonly<Record<typeof VISIT_COLUMN_NAMES[number], string>> = {
  visitor_id: "text NOT NULL DEFAULT ''",
  visit_id: 'uuid',
  visit_started_at: 'timestamptz',
  visit_landing_path: "text NOT NULL DEFAULT ''",
  visit_channel: "text NOT NULL DEFAULT ''",
  visit_source: "text NOT NULL DEFAULT ''",
  visit_medium: "text NOT NULL DEFAULT ''",
  visit_campaign: "text NOT NULL DEFAULT ''",
  visit_term: "text NOT NULL DEFAULT ''",
  visit_content: "text NOT NULL DEFAULT ''",
  visit_click_id: "text NOT NULL DEFAULT ''",
  country: "text NOT NULL DEFAULT ''"
}
/** The crawler columns (the release that named crawlers): '' and NULL for a client that is not a bot. */
const CRAWLER_COLUMN_TYPES: Readonly<Record<typeof CRAWLER_COLUMN_NAMES[number], string>> = {
  client_crawler_name: "text NOT NULL DEFAULT ''",
  client_crawler_operator: "text NOT NULL DEFAULT ''",
  client_crawler_purpose: "text NOT NULL DEFAULT ''",
  client_crawler_verified: 'boolean'
}
// Every column added after the first release, in table order: createTable adds those a table lacks.
const VISIT_COLUMNS = [
  ...VISIT_COLUMN_NAMES.map((column) => [column, VISIT_COLUMN_TYPES[column]] as const),
  ...CRAWLER_COLUMN_NAMES.map((column) => [column, CRAWLER_COLUMN_TYPES[column]] as const)
]

/** The columns COPY fills, in the order `copyRow` writes them. */
export const POSTGRES_COLUMNS = [
  'id', 'timestamp', 'type', 'event_name', 'action_name', 'client_ip', 'locale', 'hostname', 'user_id',
  'matched_pattern', 'url', 'path', 'method', 'user_agent', 'referrer', 'duration_ms', 'status_code',
  'revenue_minor', 'revenue_currency', 'client_browser', 'client_browser_version', 'client_os',
  'client_os_version', 'client_device', 'client_bot', 'properties', ...VISIT_COLUMN_NAMES, ...CRAWLER_COLUMN_NAMES
] as const

export function quote (identifier: string): string {
  return `"${identifier}"`
}

const NULL = '\\N'
const SPECIAL = /[\\\n\r\t]/
const SPECIAL_ALL = /[\\\n\r\t]/g
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' }

/** A value in COPY's text format (PostgreSQL docs, COPY, "Text Format"): backslash escapes, no NUL. */
function text (value: string): string {
  const clean = cleanText(value)
  return SPECIAL.test(clean) ? clean.replace(SPECIAL_ALL, (c) => ESCAPES[c]) : clean
}

/**
 * One event as one line of COPY text format, written at `collect` time: the queue holds a string
 * that owns nothing of the event, and a retry re-sends the same bytes.
 */
export function copyRow (event: Readonly<AnalyticsEvent>, ip: IpPolicy): string {
  const client = event.client
  const revenue = event.revenue
  const visit = event.visit
  return [
    event.id,
    event.timestamp.toISOString(),
    event.type,
    text(event.eventName),
    text(event.actionName),
    text(applyIpPolicy(event.clientIP, ip)),
    text(event.locale),
    text(event.hostname),
    text(event.userId),
    text(event.matchedPattern),
    text(event.url),
    text(event.path),
    text(event.method),
    text(event.userAgent),
    text(event.referrer),
    String(event.durationMs),
    String(event.statusCode),
    revenue === undefined ? NULL : revenue.minor.toString(),
    revenue === undefined ? NULL : revenue.currency,
    text(client.browser),
    text(client.browserVersion),
    text(client.os),
    text(client.osVersion),
    text(client.device),
    client.bot ? 't' : 'f',
    text(propertiesJSON(event.properties)),
    text(event.visitorId),
    visit === null ? NULL : text(visit.id),
    visit === null ? NULL : visit.startedAt.toISOString(),
    ...visitTexts(visit).map(text),
    text(event.country),
    ...crawlerCopy(client)
  ].join('\t') + '\n'
}

function crawlerCopy (client: Readonly<AnalyticsEvent['client']>): string[] {
  const [name, operator, purpose, verified] = crawlerValues(client)
  return [text(name), text(operator), purpose, verified === null ? NULL : verified ? 't' : 'f']
}
