// moduleResolution node10 reads no exports map: subpaths resolve through typesVersions.
import Fastify from 'fastify'
import analytics, { EventType, Money, FST_ANALYTICS_INVALID_OPTION, type AnalyticsStats } from 'fastify-analytics'
import { ga4Collector } from 'fastify-analytics/ga4'
import { memoryCollector } from 'fastify-analytics/testing'
import * as analyticsRequired from 'fastify-analytics'

const app = Fastify()
app.register(analytics, { collectors: [memoryCollector(), ga4Collector({ measurementId: 'G-X', apiSecret: 'secret' })], logLevel: 'warn' })
app.register(analyticsRequired.analytics, { collectors: [] })
app.get('/', async (request) => {
  request.analytics.setRevenue(Money.fromMinor(1, 'GBP'))
  request.analytics.track({ type: EventType.Custom, eventName: 'x', userId: 1 })
  return 'ok'
})
const stats: AnalyticsStats = app.analytics.stats()
const code: string = new FST_ANALYTICS_INVALID_OPTION('x').code
export { stats, code }
