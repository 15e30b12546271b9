// A CommonJS TypeScript file under module nodenext written the `import x = require()` way, as the
// official Fastify plugins' TypeScript users write it: the plugin module itself registers (TS2769
// before issue 26), and every subpath's factories type-check.
import Fastify = require('fastify')
import analytics = require('fastify-analytics')
import stdout = require('fastify-analytics/stdout')
import ga4 = require('fastify-analytics/ga4')
import plausible = require('fastify-analytics/plausible')
import webhook = require('fastify-analytics/webhook')
import redis = require('fastify-analytics/redis')
import postgres = require('fastify-analytics/postgres')
import clickhouse = require('fastify-analytics/clickhouse')
import batch = require('fastify-analytics/batch')
import testing = require('fastify-analytics/testing')

const app = Fastify()
const collectors: analytics.AnalyticsCollector[] = [
  stdout.stdoutCollector(),
  ga4.ga4Collector({ measurementId: 'G-X', apiSecret: 'secret', sessions: redis.redisSessionStore({ url: 'redis://127.0.0.1:6379' }) }),
  plausible.plausibleCollector({ domain: 'example.com' }),
  webhook.webhookCollector({ url: 'https://hooks.example/analytics' }),
  postgres.postgresCollector({ connectionString: 'postgres://127.0.0.1/db' }),
  clickhouse.clickhouseCollector({ url: 'http://127.0.0.1:8123' }),
  testing.memoryCollector()
]
app.register(analytics, { collectors, logLevel: 'warn' })
app.register(analytics.analytics, { collectors: [] })
app.register(analytics.default, { collectors: [] })
app.register(analytics.fastifyAnalytics, { collectors: [] })
const options: analytics.AnalyticsOptions = { collectors: [], pageViews: 'html' }
const revenue: analytics.Money = analytics.Money.fromMinor(1, 'GBP')
const track: analytics.AnalyticsEventInput = { type: analytics.EventType.Custom, eventName: 'x', revenue }
const engineClass: typeof batch.DeliveryEngine = batch.DeliveryEngine
const stats: analytics.AnalyticsStats = app.analytics.stats()
export = { options, track, engineClass, stats }
