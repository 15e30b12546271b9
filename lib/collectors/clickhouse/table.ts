import type { AnalyticsEvent } from '../../event.js'
import { applyIpPolicy, type IpPolicy } from '../../privacy/ip.js'
import { cleanText, CRAWLER_COLUMN_NAMES, crawlerValues, propertiesJSON, VISIT_COLUMN_NAMES, visitTexts } from '../warehouse/common.js'

/** Which of the shipped tables: `modern` (schema/clickhouse.sql) or `18.16` (schema/clickhouse-18.16.sql). */
export type ClickHouseTableFlavour = 'modern' | '18.16'

/**
 * The table for ClickHouse 22 and later: millisecond `DateTime64`, `LowCardinality` strings, and a
 * ReplacingMergeTree whose sort key ends in the event id, so a row a retry stored twice collapses
 * at merge (and `FINAL` hides it before); `non_replicated_deduplication_window` also makes the
 * server drop a retried insert whose block it has already stored.
 */
export function clickhouseTableDDL (table: string, flavour: ClickHouseTableFlavour = 'modern'): string {
  const modern = flavour === 'modern'
  const low = (type: string): string => modern ? `LowCardinality(${type})` : type
  return `CREATE TABLE IF NOT EXISTS ${table} (
    id                     UUID,
    ${modern ? 'timestamp              DateTime64(3, \'UTC\'),' : 'timestamp              DateTime(\'UTC\'),\n    timestamp_ms           UInt16,'}
    type                   ${low('String')},
    event_name             ${low('String')},
    action_name            ${low('String')},
    client_ip              String,
    locale                 ${low('String')},
    hostname               ${low('String')},
    user_id                String,
    matched_pattern        ${low('String')},
    url                    String,
    path                   String,
    method                 ${low('String')},
    user_agent             String,
    referrer               String,
    duration_ms            Float64,
    status_code            UInt16,
    revenue_minor          Int64,
    revenue_currency       ${low('String')},
    client_browser         ${low('String')},
    client_browser_version ${low('String')},
    client_os              ${low('String')},
    client_os_version      ${low('String')},
    client_device          ${low('String')},
    client_bot             UInt8,
    properties             String,
${visitColumns(flavour).map(([column, type]) => `    ${column.padEnd(22)} ${type}`).join(',\n')}
)
ENGINE = ReplacingMergeTree${modern ? '' : '()'}
PARTITION BY toYYYYMM(timestamp)
ORDER BY (type, toDate(timestamp), id)${modern ? '\nSETTINGS non_replicated_deduplication_window = 1000' : ''}
`
}

/**
 * The visitor, visit and country columns, added in the release that brought visits, with their
 * types for `flavour`: `createTable` adds those an existing table lacks. A row without a visit (a
 * job's event, `visits: false`) holds '' in the strings and NULL in visit_id and visit_started_at,
 * which `uniqExact` and `count(DISTINCT …)` skip.
 */
export function visitColumns (flavour: ClickHouseTableFlavour): Array<[string, string]> {
  const modern = flavour === 'modern'
  const low = modern ? 'LowCardinality(String)' : 'String'
  const types: Record<typeof VISIT_COLUMN_NAMES[number], string> = {
    visitor_id: 'String',
    visit_id: 'Nullable(UUID)',
    visit_started_at: modern ? 'Nullable(DateTime64(3, \'UTC\'))' : 'Nullable(DateTime(\'UTC\'))',
    visit_landing_path: 'String',
    visit_channel: low,
    visit_source: low,
    visit_medium: low,
    visit_campaign: low,
    visit_term: 'String',
    visit_content: 'String',
    visit_click_id: low,
    country: low
  }
  const crawlerTypes: Record<typeof CRAWLER_COLUMN_NAMES[number], string> = {
    client_crawler_name: low,
    client_crawler_operator: low,
    client_crawler_purpose: low,
    client_crawler_verified: 'Nullable(UInt8)'
  }
  // Then the crawler columns (the release that named crawlers): every column added after the first
  // release, in table order, so createTable adds those a table lacks.
  return [
    ...VISIT_COLUMN_NAMES.map((column): [string, string] => [column, types[column]]),
    ...CRAWLER_COLUMN_NAMES.map((column): [string, string] => [column, crawlerTypes[column]])
  ]
}

/**
 * One event as one JSONEachRow line, written at `collect` time. `timestamp_ms` is for the 18.16
 * table (its DateTime holds seconds); the modern table ignores it (`input_format_skip_unknown_fields`).
 * Strings are made well-formed first: ClickHouse refuses a whole INSERT for one lone surrogate
 * (error 25, "missing second part of surrogate pair"), so one becomes U+FFFD, as PostgreSQL's rows do.
 * Int64 is written as a JSON string: ClickHouse reads quoted integers, and JSON numbers lose
 * precision beyond 2^53.
 */
export function jsonRow (event: Readonly<AnalyticsEvent>, ip: IpPolicy): string {
  const client = event.client
  const revenue = event.revenue
  const visit = event.visit
  const ms = event.timestamp.getTime()
  const [landingPath, channel, source, medium, campaign, term, content, clickId] = visitTexts(visit).map(cleanText)
  const [crawlerName, crawlerOperator, crawlerPurpose, crawlerVerified] = crawlerValues(client)
  return JSON.stringify({
    id: event.id,
    timestamp: event.timestamp.toISOString(),
    timestamp_ms: ((ms % 1000) + 1000) % 1000,
    type: cleanText(event.type),
    event_name: cleanText(event.eventName),
    action_name: cleanText(event.actionName),
    client_ip: cleanText(applyIpPolicy(event.clientIP, ip)),
    locale: cleanText(event.locale),
    hostname: cleanText(event.hostname),
    user_id: cleanText(event.userId),
    matched_pattern: cleanText(event.matchedPattern),
    url: cleanText(event.url),
    path: cleanText(event.path),
    method: cleanText(event.method),
    user_agent: cleanText(event.userAgent),
    referrer: cleanText(event.referrer),
    duration_ms: event.durationMs,
    status_code: event.statusCode,
    revenue_minor: revenue === undefined ? '0' : revenue.minor.toString(),
    revenue_currency: revenue === undefined ? '' : revenue.currency,
    client_browser: cleanText(client.browser),
    client_browser_version: cleanText(client.browserVersion),
    client_os: cleanText(client.os),
    client_os_version: cleanText(client.osVersion),
    client_device: cleanText(client.device),
    client_bot: client.bot ? 1 : 0,
    properties: propertiesJSON(event.properties),
    visitor_id: cleanText(event.visitorId),
    visit_id: visit === null ? null : visit.id,
    visit_started_at: visit === null ? null : visit.startedAt.toISOString(),
    visit_landing_path: landingPath,
    visit_channel: channel,
    visit_source: source,
    visit_medium: medium,
    visit_campaign: campaign,
    visit_term: term,
    visit_content: content,
    visit_click_id: clickId,
    country: cleanText(event.country),
    client_crawler_name: crawlerName,
    client_crawler_operator: crawlerOperator,
    client_crawler_purpose: crawlerPurpose,
    client_crawler_verified: crawlerVerified === null ? null : crawlerVerified ? 1 : 0
  }) + '\n'
}
