import { test } from 'tap'
import { createRequire } from 'node:module'

// Imports go through the package name, so Node resolves them with the `exports` map against
// dist/ (compiled by tap.config.ts before the tests): this is what users get from npm.

test('the main entry exports the plugin (default and named), Money, EventType, helpers and errors', async (t) => {
  const entry = await import('fastify-analytics')
  t.type(entry.default, 'function')
  t.equal(entry.default, entry.analytics)
  t.equal(entry.default, entry.fastifyAnalytics)
  const meta = (entry.default as unknown as Record<symbol, unknown>)[Symbol.for('plugin-meta')] as { name: string, fastify: string }
  t.match(meta, { name: 'fastify-analytics', fastify: '5.x' })
  t.same(entry.EventType, { PageView: 'pageview', Action: 'action', Custom: 'custom' })
  t.type(entry.Money.fromMinor, 'function')
  for (const helper of ['trackAnalyticsEvent', 'setAnalyticsRevenue', 'addAnalyticsProperty', 'setAnalyticsEventName'] as const) {
    t.type(entry[helper], 'function', helper)
  }
  t.equal(entry.applyIpPolicy('203.0.113.7', 'truncate'), '203.0.113.0')
  t.ok(entry.DEFAULT_ALLOWED_QUERY.includes('utm_source'))
  for (const code of ['FST_ANALYTICS_INVALID_OPTION', 'FST_ANALYTICS_INVALID_MONEY', 'FST_ANALYTICS_DUPLICATE_COLLECTOR', 'FST_ANALYTICS_START_FAILED', 'FST_ANALYTICS_ALREADY_REGISTERED', 'FST_ANALYTICS_DASHBOARD_ACCESS'] as const) {
    t.equal(new entry[code]('x', 'y').code, code)
  }
})

test('every subpath resolves to its factory', async (t) => {
  t.type((await import('fastify-analytics/stdout')).stdoutCollector, 'function')
  t.type((await import('fastify-analytics/testing')).memoryCollector, 'function')
  t.type((await import('fastify-analytics/ga4')).ga4Collector, 'function')
  t.type((await import('fastify-analytics/plausible')).plausibleCollector, 'function')
  t.type((await import('fastify-analytics/mixpanel')).mixpanelCollector, 'function')
  t.type((await import('fastify-analytics/posthog')).posthogCollector, 'function')
  t.type((await import('fastify-analytics/segment')).segmentCollector, 'function')
  t.type((await import('fastify-analytics/umami')).umamiCollector, 'function')
  t.type((await import('fastify-analytics/webhook')).webhookCollector, 'function')
  t.type((await import('fastify-analytics/redis')).redisSessionStore, 'function')
  t.type((await import('fastify-analytics/redis')).redisVisitStore, 'function')
  t.type((await import('fastify-analytics/batch')).DeliveryEngine, 'function')
  t.type((await import('fastify-analytics/postgres')).postgresCollector, 'function')
  t.type((await import('fastify-analytics/clickhouse')).clickhouseCollector, 'function')
  t.type((await import('fastify-analytics/otel')).analyticsMetrics, 'function')
  t.type((await import('fastify-analytics/duckdb')).duckdbCollector, 'function')
  t.type((await import('fastify-analytics/dashboard')).analyticsDashboard, 'function')
  t.equal((await import('fastify-analytics/dashboard')).default, (await import('fastify-analytics/dashboard')).analyticsDashboard, 'the plugin is the default export too')
})

test('the database drivers are optional peer dependencies, never installed with the package', async (t) => {
  const require = createRequire(import.meta.url)
  const pkg = require('fastify-analytics/package.json') as Record<string, Record<string, unknown> | undefined>
  for (const driver of ['pg', 'pg-copy-streams', '@clickhouse/client', '@duckdb/node-api']) {
    t.type(pkg.peerDependencies?.[driver], 'string', `${driver} is a peer dependency`)
    t.same(pkg.peerDependenciesMeta?.[driver], { optional: true }, `${driver} is optional`)
    t.equal(pkg.dependencies?.[driver], undefined, `${driver} is not a dependency`)
  }
  // Importing the subpaths loads no driver: they are imported at start.
  const postgres = await import('fastify-analytics/postgres')
  t.type(postgres.postgresTableDDL('analytics_events'), 'string')
  const duckdb = await import('fastify-analytics/duckdb')
  t.type(duckdb.duckdbTableDDL('analytics_events'), 'string')
})

test('every exports entry has types that exist, and the webhook schema ships', async (t) => {
  const require = createRequire(import.meta.url)
  type Target = { types: string, default: string }
  const pkg = require('fastify-analytics/package.json') as { exports: Record<string, { import: Target, require: Target } | string> }
  const { existsSync } = await import('node:fs')
  const root = new URL('../', import.meta.url)
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') {
      t.ok(existsSync(new URL(target, root)), `${subpath} → ${target}`)
      continue
    }
    // Each format has its own code and its own types (CommonJS ones under dist/cjs, read as CommonJS).
    for (const condition of ['import', 'require'] as const) {
      const { types, default: code } = target[condition]
      t.ok(existsSync(new URL(types, root)) && existsSync(new URL(code, root)), `${subpath} (${condition}) has its code and .d.ts`)
    }
    t.match(target.require.default, /^\.\/dist\/cjs\//, `${subpath} requires the CommonJS build`)
  }
  t.equal(typeof require('fastify-analytics').analytics, 'function', 'require() from an ES module gets the CommonJS build')
  const schema = require('fastify-analytics/schema/webhook-body.schema.json') as { type: string }
  t.equal(schema.type, 'object')
  for (const file of ['postgres.sql', 'clickhouse.sql', 'clickhouse-18.16.sql', 'reports/postgres.sql', 'reports/clickhouse.sql']) {
    t.ok(existsSync(new URL(`schema/${file}`, root)), `schema/${file} ships (package.json "files" has schema/)`)
  }
})
