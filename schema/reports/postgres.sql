-- fastify-analytics reports for PostgreSQL (table analytics_events, schema/postgres.sql).
-- Each query covers the last 30 days; change the interval or add a WHERE on hostname as needed.

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

-- name: unique_visitors_per_day
-- A visitor is the user id when the app set one, else the (truncated) IP and user agent.
SELECT (timestamp AT TIME ZONE 'UTC')::date::text AS day,
       count(DISTINCT CASE WHEN user_id <> '' THEN 'u:' || user_id ELSE 'a:' || client_ip || '|' || user_agent END) AS visitors
FROM analytics_events
WHERE timestamp >= now() - interval '30 days'
GROUP BY 1
ORDER BY 1;

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
