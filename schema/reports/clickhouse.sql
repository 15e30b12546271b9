-- fastify-analytics reports for ClickHouse (table analytics_events, schema/clickhouse.sql or
-- schema/clickhouse-18.16.sql). They run unchanged on both. FINAL collapses rows a retry stored
-- twice that ReplacingMergeTree has not merged yet; on large tables, filter on time first.

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

-- name: unique_visitors_per_day
-- A visitor is the user id when the app set one, else the (truncated) IP and user agent.
SELECT toString(toDate(timestamp)) AS day,
       uniqExact(if(user_id != '', concat('u:', user_id), concat('a:', client_ip, '|', user_agent))) AS visitors
FROM analytics_events FINAL
WHERE timestamp >= now() - INTERVAL 30 DAY
GROUP BY day
ORDER BY day;

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
