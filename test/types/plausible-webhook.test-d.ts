import Fastify from 'fastify'
import { expectAssignable, expectError, expectNotAssignable, expectType } from 'tsd'
import analytics, { type AnalyticsCollector } from 'fastify-analytics'
import { plausibleCollector, type PlausibleCollector, type PlausibleCollectorOptions } from 'fastify-analytics/plausible'
import { webhookCollector, type WebhookBody, type WebhookCollector, type WebhookCollectorOptions } from 'fastify-analytics/webhook'
import * as plausibleModule from 'fastify-analytics/plausible'
import * as webhookModule from 'fastify-analytics/webhook'

const plausible = plausibleCollector({ domain: 'example.com' })
expectType<PlausibleCollector>(plausible)
expectAssignable<AnalyticsCollector>(plausible)
plausibleCollector({ domain: 'example.com', baseUrl: 'https://stats.example.com/plausible', name: 'plausible-eu', concurrency: 4, retry: { maxAttempts: 3 } })
// expectNotAssignable rather than expectError: the file also compiles under plain `tsc -p tsconfig.json`.
expectNotAssignable<PlausibleCollectorOptions>({})
expectNotAssignable<PlausibleCollectorOptions>({ domain: 'example.com', concurrency: '4' })
expectAssignable<PlausibleCollectorOptions>({ domain: 'example.com', timeoutMs: 5000 })

const webhook = webhookCollector({ url: 'https://hooks.example.com/analytics', secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', headers: { authorization: 'Bearer x' } })
expectType<WebhookCollector>(webhook)
expectAssignable<AnalyticsCollector>(webhook)
webhookCollector({ url: 'https://hooks.example.com/', maxBatchSize: 100, flushIntervalMs: 500, maxBodyBytes: 256 * 1024 })
// Byte bounds on the queue and on each batch, for every HTTP collector.
webhookCollector({ url: 'https://hooks.example.com/', maxQueueBytes: 8 << 20, maxBatchBytes: 1 << 20 })
expectError(webhookCollector({ url: 'https://hooks.example.com/', maxQueueBytes: '8MB' }))
expectNotAssignable<WebhookCollectorOptions>({ secret: 'whsec_x' })
expectNotAssignable<WebhookCollectorOptions>({ url: 'https://hooks.example.com/', headers: { 'x-n': 1 } })
expectAssignable<WebhookCollectorOptions>({ url: 'https://hooks.example.com/', name: 'audit' })

declare const body: WebhookBody
expectType<3>(body.schema)
expectType<string>(body.events[0].timestamp)

const app = Fastify()
app.register(analytics, { collectors: [plausible, webhook] })

// The subpaths carry the public API only: the collectors' helpers are internal.
expectAssignable<number>(plausibleModule.DEFAULT_PLAUSIBLE_CONCURRENCY)
expectAssignable<string>(plausibleModule.DEFAULT_PLAUSIBLE_BASE_URL)
expectNotAssignable<{ truncateUtf8: unknown }>(plausibleModule)
expectNotAssignable<{ plausibleBody: unknown }>(plausibleModule)
expectNotAssignable<{ normalizePlausibleOptions: unknown }>(plausibleModule)
expectNotAssignable<{ PLAUSIBLE_MAX_PROPS: unknown }>(plausibleModule)
expectAssignable<number>(webhookModule.DEFAULT_WEBHOOK_MAX_BODY_BYTES)
expectNotAssignable<{ signWebhook: unknown }>(webhookModule)
expectNotAssignable<{ decodeWebhookSecret: unknown }>(webhookModule)
expectNotAssignable<{ normalizeWebhookHeaders: unknown }>(webhookModule)
