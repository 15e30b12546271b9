import Fastify from 'fastify'
import { expectAssignable, expectNotAssignable, expectType } from 'tsd'
import analytics, { type AnalyticsCollector } from 'fastify-analytics'
import { segmentCollector, type SegmentCollector, type SegmentCollectorOptions, type SegmentMessage } from 'fastify-analytics/segment'
import { umamiCollector, type UmamiCollector, type UmamiCollectorOptions, type UmamiBody } from 'fastify-analytics/umami'
import * as segmentModule from 'fastify-analytics/segment'
import * as umamiModule from 'fastify-analytics/umami'

const segment = segmentCollector({ writeKey: 'wk' })
expectType<SegmentCollector>(segment)
expectAssignable<AnalyticsCollector>(segment)
segmentCollector({ writeKey: 'wk', endpoint: 'https://events.eu1.segmentapis.com', name: 'segment-eu', ip: 'full', maxBatchSize: 500, retry: { maxAttempts: 3 } })
// expectNotAssignable rather than expectError: the file also compiles under plain `tsc -p tsconfig.json`.
expectNotAssignable<SegmentCollectorOptions>({})
expectNotAssignable<SegmentCollectorOptions>({ writeKey: 'wk', ip: 'half' })
expectAssignable<SegmentCollectorOptions>({ writeKey: 'wk', endpoint: 'https://dataplane.example.com' })

declare const message: SegmentMessage
expectType<'page' | 'track'>(message.type)
expectType<string | number | boolean>(message.properties.anything)

const umami = umamiCollector({ websiteId: '94db1cb1-74f4-4a40-ad6c-962362670409', baseUrl: 'https://umami.example.com' })
expectType<UmamiCollector>(umami)
expectAssignable<AnalyticsCollector>(umami)
umamiCollector({ websiteId: '94db1cb1-74f4-4a40-ad6c-962362670409', baseUrl: 'https://cloud.umami.is', ip: 'truncate', ipHeader: 'cf-connecting-ip', concurrency: 4 })
expectNotAssignable<UmamiCollectorOptions>({ websiteId: '94db1cb1-74f4-4a40-ad6c-962362670409' })
expectNotAssignable<UmamiCollectorOptions>({ baseUrl: 'https://umami.example.com' })

declare const body: UmamiBody
expectType<'event'>(body.type)
expectType<string>(body.payload.url)

const app = Fastify()
app.register(analytics, { collectors: [segment, umami] })

// The subpaths carry the public API only: the collectors' helpers are internal.
expectAssignable<number>(segmentModule.SEGMENT_MAX_MESSAGE_BYTES)
expectAssignable<string>(segmentModule.DEFAULT_SEGMENT_ENDPOINT)
expectAssignable<string>(umamiModule.DEFAULT_UMAMI_IP_HEADER)
expectNotAssignable<{ segmentMessage: unknown }>(segmentModule)
expectNotAssignable<{ umamiRequest: unknown }>(umamiModule)
