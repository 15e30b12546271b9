import Fastify from 'fastify'
import { expectAssignable, expectError, expectNotAssignable } from 'tsd'
import analytics, { EventType, trackAnalyticsEvent, type AnalyticsEventInput, type RouteAnalyticsConfig } from 'fastify-analytics'
import { postgresCollector, type PostgresPool } from 'fastify-analytics/postgres'
import { redisSessionStore, redisVisitStore } from 'fastify-analytics/redis'

// Issue 26: types that match what the runtime accepts.
const app = Fastify()
app.register(analytics, { collectors: [] })

// track(): a custom event needs its name; page views and actions take none.
app.analytics.track({ type: EventType.Custom, eventName: 'signed.up' })
app.analytics.track({ type: 'custom', eventName: 'signed.up', actionName: 'kept as given' })
app.analytics.track({ type: EventType.PageView, path: '/pricing' })
app.analytics.track({ type: EventType.Action })
app.analytics.track({ type: EventType.Action, actionName: 'checkout' })
expectError(app.analytics.track({ type: EventType.Custom }))
expectError(trackAnalyticsEvent({ type: 'custom' }))
expectError(app.analytics.track({ type: 'pageview', eventName: 'home' }))
expectError(app.analytics.track({ type: EventType.PageView, actionName: 'x' }))
expectError(app.analytics.track({ type: EventType.Action, eventName: 'checkout' }))
expectNotAssignable<AnalyticsEventInput>({ type: 'custom' as const })
expectAssignable<AnalyticsEventInput>({ type: 'custom' as const, eventName: 'x' })

// Collectors that take one of two connection options.
declare const pool: PostgresPool
postgresCollector({ connectionString: 'postgres://127.0.0.1/db' })
postgresCollector({ pool })
expectError(postgresCollector({}))
expectError(postgresCollector({ connectionString: 'postgres://127.0.0.1/db', pool }))
declare const client: Parameters<typeof redisVisitStore>[0] extends infer O ? O extends { client: infer C } ? C : never : never
redisVisitStore({ url: 'redis://127.0.0.1' })
redisVisitStore({ client })
expectError(redisVisitStore({ url: 'redis://127.0.0.1', client }))
expectError(redisVisitStore({}))
expectError(redisSessionStore({ url: 'redis://127.0.0.1', client }))

// Route config: the runtime refuses what does not compile (test/plugin/classification.test.ts).
expectAssignable<RouteAnalyticsConfig>(false)
expectAssignable<RouteAnalyticsConfig>({ type: 'pageview' })
expectAssignable<RouteAnalyticsConfig>({ action: 'checkout' })
expectNotAssignable<RouteAnalyticsConfig>(true)
expectNotAssignable<RouteAnalyticsConfig>({})
expectNotAssignable<RouteAnalyticsConfig>(null)
