import Fastify from 'fastify'
import { expectAssignable, expectError, expectNotAssignable, expectType } from 'tsd'
import analytics, {
  applyIpPolicy, DEFAULT_ALLOWED_QUERY,
  type AnalyticsEvent, type AnalyticsStats, type ConsentDecision, type EventConsent, type IpPolicy, type PrivacyOptions,
  type QueryPolicy, type SkippedCounters
} from 'fastify-analytics'
import { stdoutCollector } from 'fastify-analytics/stdout'
import { ga4Collector } from 'fastify-analytics/ga4'
import { plausibleCollector } from 'fastify-analytics/plausible'
import { webhookCollector } from 'fastify-analytics/webhook'

const app = Fastify()
app.register(analytics, {
  collectors: [],
  privacy: { query: 'allowlist', allowQuery: ['page', 'q'], redactEmails: true },
  consent: (request) => request.headers.cookie?.includes('consent=no') === true ? 'denied' : undefined,
  respectGpc: true,
  beforeSend: (event) => {
    expectType<AnalyticsEvent>(event)
    expectType<EventConsent>(event.consent)
    return event.path === '/health' ? null : event
  }
})
app.register(analytics, { collectors: [], beforeSend: () => undefined })
expectError(app.register(analytics, { collectors: [], privacy: { query: 'some' } }))
expectError(app.register(analytics, { collectors: [], privacy: { allowQuery: 'page' } }))
expectError(app.register(analytics, { collectors: [], consent: () => 'maybe' }))
expectError(app.register(analytics, { collectors: [], respectGpc: 'yes' }))
expectError(app.register(analytics, { collectors: [], beforeSend: () => 42 }))

expectAssignable<QueryPolicy>('drop')
expectNotAssignable<QueryPolicy>('strip')
expectAssignable<ConsentDecision>('anonymous')
expectNotAssignable<EventConsent>('denied')
expectAssignable<PrivacyOptions>({})
expectType<readonly string[]>(DEFAULT_ALLOWED_QUERY)
expectType<string>(applyIpPolicy('203.0.113.7', 'truncate'))
expectError(applyIpPolicy('203.0.113.7', 'mask'))

declare const stats: AnalyticsStats
expectType<SkippedCounters>(stats.events.skipped)
expectType<number>(stats.events.skipped.consent)
expectType<number>(stats.events.skipped.beforeSend)
expectType<number>(stats.events.consentDenied)
expectType<number>(stats.events.beforeSendDropped)
expectType<number>(stats.events.beforeSendFailed)

const policy: IpPolicy = 'none'
stdoutCollector({ ip: 'full' })
ga4Collector({ measurementId: 'G-X', apiSecret: 's', ip: policy })
plausibleCollector({ domain: 'example.com', ip: 'truncate' })
webhookCollector({ url: 'https://hooks.example', ip: 'none' })
expectError(stdoutCollector({ ip: 'partial' }))
expectError(webhookCollector({ url: 'https://hooks.example', ip: true }))

// GA4's eventNames: an object of names, or a function of the event returning a name or nothing.
ga4Collector({ measurementId: 'G-X', apiSecret: 's', eventNames: { 'order.paid': 'purchase' } })
ga4Collector({ measurementId: 'G-X', apiSecret: 's', eventNames: (event) => event.eventName === 'x' ? 'purchase' : undefined })
ga4Collector({ measurementId: 'G-X', apiSecret: 's', eventNames: () => null })
expectError(ga4Collector({ measurementId: 'G-X', apiSecret: 's', eventNames: { 'order.paid': 1 } }))
expectError(ga4Collector({ measurementId: 'G-X', apiSecret: 's', eventNames: () => 1 }))
