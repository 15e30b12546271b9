import { expectAssignable, expectError, expectNotAssignable, expectType } from 'tsd'
import type { AnalyticsCollector } from 'fastify-analytics'
import { mixpanelCollector, type MixpanelCollector, type MixpanelCollectorOptions } from 'fastify-analytics/mixpanel'
import { posthogCollector, type PosthogCollector, type PosthogCollectorOptions, type PosthogEvent } from 'fastify-analytics/posthog'

const mixpanel = mixpanelCollector({ projectToken: 'token' })
expectType<MixpanelCollector>(mixpanel)
expectAssignable<AnalyticsCollector>(mixpanel)
mixpanelCollector({ projectToken: 'token', serviceAccount: { username: 'sa', secret: 's', projectId: 4242 }, region: 'eu', ip: 'truncate', maxBatchSize: 500 })
mixpanelCollector({ projectToken: 'token', apiSecret: 'secret', endpoint: 'https://proxy.example/mp' })
// A service account or an API secret, never both; a region Mixpanel has.
expectNotAssignable<MixpanelCollectorOptions>({ projectToken: 'token', apiSecret: 'secret', serviceAccount: { username: 'sa', secret: 's', projectId: 1 } })
expectNotAssignable<MixpanelCollectorOptions>({ projectToken: 'token', region: 'asia' })
expectNotAssignable<MixpanelCollectorOptions>({ apiSecret: 'secret' })
expectError(mixpanelCollector({ projectToken: 'token', serviceAccount: { username: 'sa', secret: 's' } }))

const posthog = posthogCollector({ apiKey: 'phc_key', host: 'https://eu.i.posthog.com' })
expectType<PosthogCollector>(posthog)
expectAssignable<AnalyticsCollector>(posthog)
posthogCollector({ apiKey: 'phc_key', ip: 'none', concurrency: 2, retry: { maxAttempts: 3 } })
expectNotAssignable<PosthogCollectorOptions>({ host: 'https://eu.i.posthog.com' })
expectNotAssignable<PosthogCollectorOptions>({ apiKey: 'phc_key', ip: 'partial' })

declare const event: PosthogEvent
expectType<string>(event.uuid)
expectType<string>(event.distinct_id)
