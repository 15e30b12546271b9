import { expectAssignable, expectError, expectType } from 'tsd'
import Fastify from 'fastify'
import { createClient } from 'redis'
import analytics, { type AnalyticsEvent, type AnalyticsEventJSON, type Attribution, type Channel, type Salts, type Visit, type VisitHit, type VisitJSON, type VisitStats, type VisitStore } from 'fastify-analytics'
import { redisVisitStore } from 'fastify-analytics/redis'
import { memoryCollector } from 'fastify-analytics/testing'

const app = Fastify()
const collectors = [memoryCollector()]

// Options: visits and geo, each an object or false.
app.register(analytics, { collectors })
app.register(analytics, { collectors, visits: { timeoutMs: 45 * 60_000 } })
app.register(analytics, { collectors, visits: false, geo: false })
app.register(analytics, { collectors, geo: { header: 'cf-ipcountry' } })
app.register(analytics, { collectors, geo: { database: '/data/GeoLite2-Country.mmdb' } })
app.register(analytics, { collectors, visits: { store: redisVisitStore({ url: 'redis://127.0.0.1:6379' }) } })
app.register(analytics, { collectors, visits: { store: redisVisitStore({ client: createClient(), keyPrefix: 'app:', timeoutMs: 200 }) } })
expectError(app.register(analytics, { collectors, visits: true }))
expectError(app.register(analytics, { collectors, visits: { timeoutMs: '30m' } }))
expectError(app.register(analytics, { collectors, geo: { header: 1 } }))
expectError(redisVisitStore({}))
expectError(redisVisitStore({ url: 'redis://x', timeoutMs: '1s' }))
expectType<VisitStore>(redisVisitStore({ url: 'redis://x' }))

// Event fields.
declare const event: AnalyticsEvent
expectType<string>(event.visitorId)
expectType<Readonly<Visit> | null>(event.visit)
expectType<string>(event.country)
if (event.visit !== null) {
  expectType<string>(event.visit.id)
  expectType<Date>(event.visit.startedAt)
  expectType<string>(event.visit.landingPath)
  expectType<Channel>(event.visit.channel)
  expectType<'' | Attribution['clickId']>(event.visit.clickId)
}
declare const json: AnalyticsEventJSON
expectType<VisitJSON | null>(json.visit)
if (json.visit !== null) expectType<string>(json.visit.startedAt)

// Stats.
expectType<VisitStats>(app.analytics.stats().visits)
expectType<number>(app.analytics.stats().visits.fallbacks)
expectType<number>(app.analytics.stats().events.skipped.spam)

// A store of your own: synchronous or asynchronous answers.
const mine: VisitStore = {
  kind: 'mine',
  timeoutMs: 100,
  salts (day: number): Salts {
    return { today: new Uint8Array(32).fill(day % 256), yesterday: undefined }
  },
  async visit (hit: VisitHit) {
    expectType<number>(hit.atMs)
    expectType<Readonly<Attribution>>(hit.attribution)
    return { id: 'x', startedAt: new Date(hit.atMs), landingPath: hit.landingPath, ...hit.attribution }
  }
}
expectAssignable<VisitStore>(mine)
app.register(analytics, { collectors, visits: { store: mine } })
