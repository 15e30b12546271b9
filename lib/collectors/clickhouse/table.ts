import type { AnalyticsEvent } from '../../event.js'
import { applyIpPolicy, type IpPolicy } from '../../privacy/ip.js'
import { propertiesJSON } from '../warehouse/common.js'

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
    properties             String
)
ENGINE = ReplacingMergeTree${modern ? '' : '()'}
PARTITION BY toYYYYMM(timestamp)
ORDER BY (type, toDate(timestamp), id)${modern ? '\nSETTINGS non_replicated_deduplication_window = 1000' : ''}
`
}

/**
 * One event as one JSONEachRow line, written at `collect` time. `timestamp_ms` is for the 18.16
 * table (its DateTime holds seconds); the modern table ignores it (`input_format_skip_unknown_fields`).
 * Int64 is written as a JSON string: ClickHouse reads quoted integers, and JSON numbers lose
 * precision beyond 2^53.
 */
export function jsonRow (event: Readonly<AnalyticsEvent>, ip: IpPolicy): string {
  const client = event.client
  const revenue = event.revenue
  const ms = event.timestamp.getTime()
  return JSON.stringify({
    id: event.id,
    timestamp: event.timestamp.toISOString(),
    timestamp_ms: ((ms % 1000) + 1000) % 1000,
    type: event.type,
    event_name: event.eventName,
    action_name: event.actionName,
    client_ip: applyIpPolicy(event.clientIP, ip),
    locale: event.locale,
    hostname: event.hostname,
    user_id: event.userId,
    matched_pattern: event.matchedPattern,
    url: event.url,
    path: event.path,
    method: event.method,
    user_agent: event.userAgent,
    referrer: event.referrer,
    duration_ms: event.durationMs,
    status_code: event.statusCode,
    revenue_minor: revenue === undefined ? '0' : revenue.minor.toString(),
    revenue_currency: revenue === undefined ? '' : revenue.currency,
    client_browser: client.browser,
    client_browser_version: client.browserVersion,
    client_os: client.os,
    client_os_version: client.osVersion,
    client_device: client.device,
    client_bot: client.bot ? 1 : 0,
    properties: propertiesJSON(event.properties)
  }) + '\n'
}
