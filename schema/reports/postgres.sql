-- fastify-analytics reports for PostgreSQL (table analytics_events, schema/postgres.sql).
-- Each query covers the last 30 days; change the interval or add a WHERE on hostname as needed.
-- Visitor and visit reports count people: events without a visit (a job's track()) and bots
-- (client_bot, kept with bots: 'label') are left out. Visitor ids are daily, so a visitor seen on
-- three days is three visitors over the month: multi-day uniques are a sum of daily uniques.

-- name: page_views_per_day
SELECT (timestamp AT TIME ZONE 'UTC')::date::text AS day, count(*) AS page_views
FROM analytics_events
WHERE type = 'pageview' AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY 1;

-- name: top_pages
SELECT path, count(*) AS page_views
FROM analytics_events
WHERE type = 'pageview' AND timestamp >= now() - interval '30 days'
GROUP BY path
ORDER BY page_views DESC, path
LIMIT 10;

-- name: top_referrers
SELECT substring(referrer FROM '^[A-Za-z][A-Za-z0-9+.-]*://([^/:?#]+)') AS referrer_host, count(*) AS page_views
FROM analytics_events
WHERE type = 'pageview' AND referrer <> '' AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY page_views DESC, referrer_host
LIMIT 10;

-- name: actions_per_route
SELECT action_name, matched_pattern, count(*) AS actions, count(*) FILTER (WHERE status_code >= 400) AS errors
FROM analytics_events
WHERE type = 'action' AND timestamp >= now() - interval '30 days'
GROUP BY action_name, matched_pattern
ORDER BY actions DESC, action_name;

-- name: revenue_per_currency
-- Minor units (pence, cents, yen): divide by 10 ^ the currency's exponent for display.
SELECT revenue_currency AS currency, sum(revenue_minor) AS revenue_minor, count(*) AS orders
FROM analytics_events
WHERE revenue_minor IS NOT NULL AND timestamp >= now() - interval '30 days'
GROUP BY revenue_currency
ORDER BY currency;

-- name: bots_vs_humans
SELECT CASE WHEN client_bot THEN 'bot' ELSE 'human' END AS visitor_kind, count(*) AS events
FROM analytics_events
WHERE timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY 1;

-- name: visitors_per_day
SELECT (timestamp AT TIME ZONE 'UTC')::date::text AS day, count(DISTINCT visitor_id) AS visitors
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY 1;

-- name: visits_per_day
-- A visit counts on the day it started.
SELECT (visit_started_at AT TIME ZONE 'UTC')::date::text AS day, count(DISTINCT visit_id) AS visits
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY 1;

-- name: views_per_visit
SELECT count(DISTINCT visit_id) AS visits, count(*) FILTER (WHERE type = 'pageview') AS page_views,
       round(count(*) FILTER (WHERE type = 'pageview')::numeric / nullif(count(DISTINCT visit_id), 0), 2) AS views_per_visit
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND timestamp >= now() - interval '30 days';

-- name: bounce_rate
-- Of the visits with a page view, those that are one page view and nothing else, in percent.
SELECT count(*) AS visits, count(*) FILTER (WHERE events = 1) AS bounces,
       round(100.0 * count(*) FILTER (WHERE events = 1) / nullif(count(*), 0), 1) AS bounce_rate
FROM (
  SELECT visit_id, count(*) AS events, count(*) FILTER (WHERE type = 'pageview') AS page_views
  FROM analytics_events
  WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND timestamp >= now() - interval '30 days'
  GROUP BY visit_id
) AS visits
WHERE page_views > 0;

-- name: visit_duration
-- From a visit's first event to its last, in whole seconds; a one-event visit lasts 0.
SELECT count(*) AS visits, round(avg(seconds)) AS average_seconds
FROM (
  SELECT visit_id, floor(extract(epoch FROM max(timestamp))) - floor(extract(epoch FROM min(timestamp))) AS seconds
  FROM analytics_events
  WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND timestamp >= now() - interval '30 days'
  GROUP BY visit_id
) AS visits;

-- name: channels
SELECT visit_channel AS channel, count(DISTINCT visitor_id) AS visitors, count(DISTINCT visit_id) AS visits
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY visitors DESC, visits DESC, channel;

-- name: sources
SELECT visit_source AS source, count(DISTINCT visitor_id) AS visitors, count(DISTINCT visit_id) AS visits
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY visitors DESC, visits DESC, source;

-- name: campaigns
SELECT visit_campaign AS campaign, visit_source AS source, visit_medium AS medium,
       count(DISTINCT visitor_id) AS visitors, count(DISTINCT visit_id) AS visits
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND visit_campaign <> '' AND timestamp >= now() - interval '30 days'
GROUP BY 1, 2, 3
ORDER BY visitors DESC, visits DESC, campaign, source, medium;

-- name: countries
-- ISO 3166-1 alpha-2 codes; events whose country is unknown are left out.
SELECT country, count(DISTINCT visitor_id) AS visitors, count(DISTINCT visit_id) AS visits
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND country <> '' AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY visitors DESC, visits DESC, country;

-- name: landing_pages
SELECT visit_landing_path AS landing_path, count(DISTINCT visitor_id) AS visitors, count(DISTINCT visit_id) AS visits
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY visitors DESC, visits DESC, landing_path;

-- name: revenue_by_channel
-- Revenue credited to the channel of the visit it happened in; revenue without a visit (a job's
-- track()) is '(no visit)', so the rows add up to revenue_per_currency. Minor units, per currency.
SELECT CASE WHEN visit_id IS NULL THEN '(no visit)' ELSE visit_channel END AS channel, revenue_currency AS currency,
       sum(revenue_minor) AS revenue_minor, count(*) AS orders
FROM analytics_events
WHERE revenue_minor IS NOT NULL AND timestamp >= now() - interval '30 days'
GROUP BY 1, 2
ORDER BY currency, revenue_minor DESC, channel;

-- name: revenue_by_campaign
-- Revenue credited to the campaign of the visit it happened in. Minor units, per currency.
SELECT visit_campaign AS campaign, visit_source AS source, visit_medium AS medium, revenue_currency AS currency,
       sum(revenue_minor) AS revenue_minor, count(*) AS orders
FROM analytics_events
WHERE revenue_minor IS NOT NULL AND visit_campaign <> '' AND timestamp >= now() - interval '30 days'
GROUP BY 1, 2, 3, 4
ORDER BY currency, revenue_minor DESC, campaign, source, medium;

-- name: pages
-- The dashboard's Pages table: page views of people, by path.
SELECT path, count(DISTINCT visitor_id) AS visitors, count(DISTINCT visit_id) AS visits, count(*) AS page_views
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND type = 'pageview' AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY visitors DESC, visits DESC, page_views DESC, path;

-- name: devices
-- client_device as the User-Agent gives it: desktop, mobile, tablet, …
SELECT client_device AS device, count(DISTINCT visitor_id) AS visitors, count(DISTINCT visit_id) AS visits,
       count(*) FILTER (WHERE type = 'pageview') AS page_views
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY visitors DESC, visits DESC, page_views DESC, device;

-- name: browsers
SELECT client_browser AS browser, count(DISTINCT visitor_id) AS visitors, count(DISTINCT visit_id) AS visits,
       count(*) FILTER (WHERE type = 'pageview') AS page_views
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY visitors DESC, visits DESC, page_views DESC, browser;

-- name: operating_systems
SELECT client_os AS os, count(DISTINCT visitor_id) AS visitors, count(DISTINCT visit_id) AS visits,
       count(*) FILTER (WHERE type = 'pageview') AS page_views
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY visitors DESC, visits DESC, page_views DESC, os;

-- name: events
-- Actions by action name and custom events by event name.
SELECT CASE WHEN type = 'custom' THEN event_name ELSE action_name END AS event,
       count(DISTINCT visitor_id) AS visitors, count(DISTINCT visit_id) AS visits, count(*) AS events
FROM analytics_events
WHERE visit_id IS NOT NULL AND visitor_id <> '' AND NOT client_bot AND type IN ('action', 'custom') AND timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY visitors DESC, visits DESC, events DESC, event;

-- name: crawlers_per_day
-- Crawler requests (kept with bots: 'label') by day and purpose (docs/crawlers.md). Spoofed ones, a
-- crawler's name from an address its operator does not publish, are left out: see spoofed_crawlers.
SELECT (timestamp AT TIME ZONE 'UTC')::date::text AS day, coalesce(nullif(client_crawler_purpose, ''), 'unknown') AS purpose, count(*) AS requests
FROM analytics_events
WHERE client_bot AND client_crawler_verified IS NOT FALSE AND type <> 'custom' AND timestamp >= now() - interval '30 days'
GROUP BY 1, 2
ORDER BY 1, 2;

-- name: crawler_pages
-- The paths each crawler fetched most, with how many of those fetches found nothing (404).
SELECT client_crawler_name AS crawler, path, count(*) AS requests, count(*) FILTER (WHERE status_code = 404) AS not_found
FROM analytics_events
WHERE client_bot AND client_crawler_verified IS NOT FALSE AND type <> 'custom' AND timestamp >= now() - interval '30 days'
GROUP BY 1, 2
ORDER BY requests DESC, crawler, path
LIMIT 50;

-- name: spoofed_crawlers
-- Requests that claimed a crawler whose operator publishes its addresses, from elsewhere: scrapers.
-- `addresses` counts client_ip as stored (the collector's ip option: /24 and /48 by default).
SELECT client_crawler_name AS claimed, client_crawler_operator AS operator, count(*) AS requests, count(DISTINCT client_ip) AS addresses
FROM analytics_events
WHERE client_crawler_verified = false AND timestamp >= now() - interval '30 days'
GROUP BY 1, 2
ORDER BY requests DESC, claimed;
