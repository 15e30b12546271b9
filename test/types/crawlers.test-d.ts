import { expectAssignable, expectError, expectType } from 'tsd'
import Fastify from 'fastify'
import analytics, {
  eventsFilter, NO_BOT_EVENTS, type AnalyticsCollector, type AnalyticsEvent, type CollectorEvents, type CrawlerInfo,
  type CrawlerPurpose, type CrawlerStats
} from 'fastify-analytics'
import { ga4Collector } from 'fastify-analytics/ga4'
import { plausibleCollector } from 'fastify-analytics/plausible'
import { webhookCollector } from 'fastify-analytics/webhook'
import { stdoutCollector } from 'fastify-analytics/stdout'
import { postgresCollector } from 'fastify-analytics/postgres'
import { clickhouseCollector } from 'fastify-analytics/clickhouse'
import { duckdbCollector } from 'fastify-analytics/duckdb'

// client.crawler: null or a crawler.
declare const event: AnalyticsEvent
expectType<Readonly<CrawlerInfo> | null>(event.client.crawler)
if (event.client.crawler !== null) {
  expectType<string>(event.client.crawler.name)
  expectType<CrawlerPurpose>(event.client.crawler.purpose)
  expectType<boolean | null>(event.client.crawler.verified)
}
expectAssignable<CrawlerPurpose>('ai-assistant')
expectError<CrawlerPurpose>('ai')

// The events option on every built-in collector: a function or the shorthand.
ga4Collector({ measurementId: 'G-XXXXXXXXXX', apiSecret: 's', events: { bots: true } })
plausibleCollector({ domain: 'example.com', events: { types: ['pageview', 'action'] } })
webhookCollector({ url: 'https://hooks.example.com/a', events: (e) => e.client.crawler?.purpose === 'ai-training' })
stdoutCollector({ events: { bots: false } })
postgresCollector({ connectionString: 'postgres://x@127.0.0.1/db', events: { bots: true } })
clickhouseCollector({ url: 'http://127.0.0.1:8123', events: { types: ['custom'] } })
duckdbCollector({ path: ':memory:', events: (e) => !e.client.bot })
expectError(plausibleCollector({ domain: 'example.com', events: { bots: 'no' } }))
expectError(plausibleCollector({ domain: 'example.com', events: { types: ['page_view'] } }))
expectError(stdoutCollector({ events: true }))
expectAssignable<CollectorEvents>({ bots: false, types: ['pageview'] })

// A custom collector: wants(), built with eventsFilter.
const wants = eventsFilter({ bots: false }, NO_BOT_EVENTS)
expectType<((event: Readonly<AnalyticsEvent>) => boolean) | undefined>(wants)
expectAssignable<AnalyticsCollector>({ name: 'mine', wants: (e: Readonly<AnalyticsEvent>) => !e.client.bot, start () {}, collect () {}, flush () {}, close () {} })

// stats().events.crawlers
const app = Fastify()
app.register(analytics, { collectors: [] })
expectType<CrawlerStats>(app.analytics.stats().events.crawlers)
expectType<number>(app.analytics.stats().events.crawlers.byPurpose['ai-training'])
expectType<Record<string, number>>(app.analytics.stats().events.crawlers.byName)
