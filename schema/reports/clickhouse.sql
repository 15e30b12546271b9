-- fastify-analytics reports for ClickHouse (table analytics_events, schema/clickhouse.sql or
-- schema/clickhouse-18.16.sql). They run unchanged on both. FINAL collapses rows a retry stored
-- twice that ReplacingMergeTree has not merged yet; on large tables, filter on time first.
-- Visitor and visit reports count people: events without a visit (a job's track()) and bots
-- (client_bot, kept with bots: 'label') are left out. Visitor ids are daily, so a visitor seen on
-- three days is three visitors over the month: multi-day uniques are a sum of daily uniques.

-- name: page_views_per_day
SELECT toString(toDate(timestamp)) AS day, count() AS page_views
FROM analytics_events FINAL
WHERE type = 'pageview' AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY day
ORDER BY day;

-- name: top_pages
SELECT path, count() AS page_views
FROM analytics_events FINAL
WHERE type = 'pageview' AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY path
ORDER BY page_views DESC, path
LIMIT 10;

-- name: top_referrers
SELECT domain(referrer) AS referrer_host, count() AS page_views
FROM analytics_events FINAL
WHERE type = 'pageview' AND referrer != '' AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY referrer_host
ORDER BY page_views DESC, referrer_host
LIMIT 10;

-- name: actions_per_route
SELECT action_name, matched_pattern, count() AS actions, countIf(status_code >= 400) AS errors
FROM analytics_events FINAL
WHERE type = 'action' AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY action_name, matched_pattern
ORDER BY actions DESC, action_name;

-- name: revenue_per_currency
-- Minor units (pence, cents, yen): divide by 10 ^ the currency's exponent for display.
SELECT revenue_currency AS currency, sum(revenue_minor) AS revenue_minor, count() AS orders
FROM analytics_events FINAL
WHERE revenue_currency != '' AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY currency
ORDER BY currency;

-- name: bots_vs_humans
SELECT if(client_bot = 1, 'bot', 'human') AS visitor_kind, count() AS events
FROM analytics_events FINAL
WHERE timestamp >= now() - INTERVAL 30 DAY
GROUP BY visitor_kind
ORDER BY visitor_kind;

-- name: visitors_per_day
SELECT toString(toDate(timestamp)) AS day, uniqExact(visitor_id) AS visitors
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY day
ORDER BY day;

-- name: visits_per_day
-- A visit counts on the day it started.
SELECT toString(toDate(assumeNotNull(visit_started_at))) AS day, uniqExact(visit_id) AS visits
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY day
ORDER BY day;

-- name: views_per_visit
SELECT uniqExact(visit_id) AS visits, countIf(type = 'pageview') AS page_views,
       round(countIf(type = 'pageview') / uniqExact(visit_id), 2) AS views_per_visit
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND timestamp >= now() - INTERVAL 30 DAY;

-- name: bounce_rate
-- Of the visits with a page view, those that are one page view and nothing else, in percent.
SELECT count() AS visits, countIf(events = 1) AS bounces, round(100 * countIf(events = 1) / count(), 1) AS bounce_rate
FROM (
  SELECT visit_id, count() AS events, countIf(type = 'pageview') AS page_views
  FROM analytics_events FINAL
  WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND timestamp >= now() - INTERVAL 30 DAY
  GROUP BY visit_id
)
WHERE page_views > 0;

-- name: visit_duration
-- From a visit's first event to its last, in whole seconds; a one-event visit lasts 0.
SELECT count() AS visits, round(avg(seconds)) AS average_seconds
FROM (
  SELECT visit_id, toUnixTimestamp(max(timestamp)) - toUnixTimestamp(min(timestamp)) AS seconds
  FROM analytics_events FINAL
  WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND timestamp >= now() - INTERVAL 30 DAY
  GROUP BY visit_id
);

-- name: channels
SELECT visit_channel AS channel, uniqExact(visitor_id) AS visitors, uniqExact(visit_id) AS visits
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY channel
ORDER BY visitors DESC, visits DESC, channel;

-- name: sources
SELECT visit_source AS source, uniqExact(visitor_id) AS visitors, uniqExact(visit_id) AS visits
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY source
ORDER BY visitors DESC, visits DESC, source;

-- name: campaigns
SELECT visit_campaign AS campaign, visit_source AS source, visit_medium AS medium,
       uniqExact(visitor_id) AS visitors, uniqExact(visit_id) AS visits
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND visit_campaign != '' AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY campaign, source, medium
ORDER BY visitors DESC, visits DESC, campaign, source, medium;

-- name: countries
-- ISO 3166-1 alpha-2 codes; events whose country is unknown are left out.
SELECT country, uniqExact(visitor_id) AS visitors, uniqExact(visit_id) AS visits
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND country != '' AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY country
ORDER BY visitors DESC, visits DESC, country;

-- name: landing_pages
SELECT visit_landing_path AS landing_path, uniqExact(visitor_id) AS visitors, uniqExact(visit_id) AS visits
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY landing_path
ORDER BY visitors DESC, visits DESC, landing_path;

-- name: revenue_by_channel
-- Revenue credited to the channel of the visit it happened in; revenue without a visit (a job's
-- track()) is '(no visit)', so the rows add up to revenue_per_currency. Minor units, per currency.
SELECT if(isNull(visit_id), '(no visit)', visit_channel) AS channel, revenue_currency AS currency,
       sum(revenue_minor) AS revenue_minor, count() AS orders
FROM analytics_events FINAL
WHERE revenue_currency != '' AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY channel, currency
ORDER BY currency, revenue_minor DESC, channel;

-- name: revenue_by_campaign
-- Revenue credited to the campaign of the visit it happened in. Minor units, per currency.
SELECT visit_campaign AS campaign, visit_source AS source, visit_medium AS medium, revenue_currency AS currency,
       sum(revenue_minor) AS revenue_minor, count() AS orders
FROM analytics_events FINAL
WHERE revenue_currency != '' AND visit_campaign != '' AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY campaign, source, medium, currency
ORDER BY currency, revenue_minor DESC, campaign, source, medium;

-- name: pages
-- The dashboard's Pages table: page views of people, by path.
SELECT path, uniqExact(visitor_id) AS visitors, uniqExact(visit_id) AS visits, count() AS page_views
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND type = 'pageview' AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY path
ORDER BY visitors DESC, visits DESC, page_views DESC, path;

-- name: devices
-- client_device as the User-Agent gives it: desktop, mobile, tablet, …
SELECT client_device AS device, uniqExact(visitor_id) AS visitors, uniqExact(visit_id) AS visits,
       countIf(type = 'pageview') AS page_views
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY device
ORDER BY visitors DESC, visits DESC, page_views DESC, device;

-- name: browsers
SELECT client_browser AS browser, uniqExact(visitor_id) AS visitors, uniqExact(visit_id) AS visits,
       countIf(type = 'pageview') AS page_views
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY browser
ORDER BY visitors DESC, visits DESC, page_views DESC, browser;

-- name: operating_systems
SELECT client_os AS os, uniqExact(visitor_id) AS visitors, uniqExact(visit_id) AS visits,
       countIf(type = 'pageview') AS page_views
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY os
ORDER BY visitors DESC, visits DESC, page_views DESC, os;

-- name: events
-- Actions by action name and custom events by event name.
SELECT if(type = 'custom', event_name, action_name) AS event,
       uniqExact(visitor_id) AS visitors, uniqExact(visit_id) AS visits, count() AS events
FROM analytics_events FINAL
WHERE isNotNull(visit_id) AND visitor_id != '' AND client_bot = 0 AND type IN ('action', 'custom') AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY event
ORDER BY visitors DESC, visits DESC, events DESC, event;

-- name: crawlers_per_day
-- Crawler requests (kept with bots: 'label') by day and purpose (docs/crawlers.md). Spoofed ones, a
-- crawler's name from an address its operator does not publish, are left out: see spoofed_crawlers.
SELECT toString(toDate(timestamp)) AS day, if(client_crawler_purpose = '', 'unknown', client_crawler_purpose) AS purpose, count() AS requests
FROM analytics_events FINAL
WHERE client_bot = 1 AND ifNull(client_crawler_verified, 1) = 1 AND type != 'custom' AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY day, purpose
ORDER BY day, purpose;

-- name: crawler_pages
-- The paths each crawler fetched most, with how many of those fetches found nothing (404).
SELECT client_crawler_name AS crawler, path, count() AS requests, countIf(status_code = 404) AS not_found
FROM analytics_events FINAL
WHERE client_bot = 1 AND ifNull(client_crawler_verified, 1) = 1 AND type != 'custom' AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY crawler, path
ORDER BY requests DESC, crawler, path
LIMIT 50;

-- name: spoofed_crawlers
-- Requests that claimed a crawler whose operator publishes its addresses, from elsewhere: scrapers.
-- `addresses` counts client_ip as stored (the collector's ip option: /24 and /48 by default).
SELECT client_crawler_name AS claimed, client_crawler_operator AS operator, count() AS requests, uniqExact(client_ip) AS addresses
FROM analytics_events FINAL
WHERE ifNull(client_crawler_verified, 1) = 0 AND timestamp >= now() - INTERVAL 30 DAY
GROUP BY claimed, operator
ORDER BY requests DESC, claimed;
