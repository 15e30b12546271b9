import { test } from 'tap'
import Fastify from 'fastify'
import { MeterProvider, AggregationTemporality, InMemoryMetricExporter, PeriodicExportingMetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics'
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus'
import analytics, { EventType } from '../lib/index.js'
import { analyticsMetrics, ANALYTICS_METRICS } from '../lib/otel.js'
import { memoryCollector } from '../lib/testing.js'
import { webhookCollector } from '../lib/collectors/webhook.js'
import { ok, startSink } from './helpers/sink.js'

// fastify-analytics/otel against the real OpenTelemetry SDK and its Prometheus exporter, scraped
// over real HTTP (test/exports.test.ts checks the subpath resolves in the build).

const browser = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0' }

/** name → [attributes, value] of every data point of one collection. */
function points (resourceMetrics: ResourceMetrics): Map<string, Array<[Record<string, unknown>, number]>> {
  const found = new Map<string, Array<[Record<string, unknown>, number]>>()
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      found.set(metric.descriptor.name, metric.dataPoints.map((point) => [point.attributes, point.value as number]))
    }
  }
  return found
}

test('analyticsMetrics reports stats() as observable instruments: events, skips by reason, each collector by drop reason', async (t) => {
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 })
  const meterProvider = new MeterProvider({ readers: [reader] })
  t.teardown(() => meterProvider.shutdown())
  const sink = await startSink({ policy: ok(400) }) // the webhook's batches are refused: counted `rejected`
  t.teardown(() => sink.close())
  const app = Fastify()
  t.teardown(() => app.close())
  const memory = memoryCollector()
  await app.register(analytics, { collectors: [memory, webhookCollector({ url: `${sink.origin}/hook`, flushIntervalMs: 5, name: 'hook' })] })
  await app.register(analyticsMetrics, { meterProvider })
  app.get('/page', async (_request, reply) => reply.type('text/html').send('<p>page</p>'))
  app.get('/json', async () => ({ ok: true }))
  await app.ready()
  await app.inject({ url: '/page', headers: browser })
  await app.inject({ url: '/json', headers: browser })
  await app.inject({ url: '/json', headers: browser })
  await app.inject({ url: '/page', headers: { 'user-agent': 'curl/8.5.0' } })
  app.analytics.track({ type: EventType.Custom, eventName: 'job.done' })
  await app.analytics.flush({ timeoutMs: 5000 })

  const { resourceMetrics, errors } = await reader.collect()
  t.same(errors, [])
  const found = points(resourceMetrics)
  t.same([...found.keys()].sort(), Object.values(ANALYTICS_METRICS).sort(), 'every documented instrument, and only those')
  t.same(found.get(ANALYTICS_METRICS.emitted), [[{}, 2]])
  const skipped = Object.fromEntries((found.get(ANALYTICS_METRICS.skipped) ?? []).map(([attributes, value]) => [attributes['analytics.skip.reason'], value]))
  t.match(skipped, { notPage: 2, bot: 1, prefetch: 0 }, 'skips by reason')
  const per = (name: string, collector: string): Array<[Record<string, unknown>, number]> =>
    (found.get(name) ?? []).filter(([attributes]) => attributes['analytics.collector.name'] === collector)
  t.same(per(ANALYTICS_METRICS.delivered, 'memory'), [[{ 'analytics.collector.name': 'memory' }, 2]])
  t.same(per(ANALYTICS_METRICS.accepted, 'hook'), [[{ 'analytics.collector.name': 'hook' }, 2]])
  const hookDrops = Object.fromEntries(per(ANALYTICS_METRICS.dropped, 'hook').map(([attributes, value]) => [attributes['analytics.drop.reason'], value]))
  t.match(hookDrops, { rejected: 2, queueFull: 0, shutdown: 0 }, 'drops by reason, per collector')
  t.equal(Object.keys(hookDrops).length, 7, 'every drop reason is reported, zeros included')
})

test('the Prometheus recipe: a /metrics route serves the exposition format, scraped over HTTP', async (t) => {
  // As docs/metrics.md shows it: the exporter's own server not started, its output served by a route.
  const exporter = new PrometheusExporter({ preventServerStart: true })
  const meterProvider = new MeterProvider({ readers: [exporter] })
  t.teardown(() => meterProvider.shutdown())
  const serializer = new PrometheusSerializer()
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, { collectors: [memoryCollector()] })
  await app.register(analyticsMetrics, { meterProvider })
  app.get('/metrics', { config: { analytics: false } }, async (_request, reply) => {
    const { resourceMetrics } = await exporter.collect()
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(serializer.serialize(resourceMetrics))
  })
  app.get('/', async (_request, reply) => reply.type('text/html').send('<p>home</p>'))
  const origin = await app.listen({ port: 0, host: '127.0.0.1' })
  for (let i = 0; i < 3; i++) await (await fetch(`${origin}/`, { headers: browser })).arrayBuffer()

  const response = await fetch(`${origin}/metrics`)
  t.equal(response.status, 200)
  t.match(response.headers.get('content-type'), /^text\/plain; version=0\.0\.4/)
  const text = await response.text()
  t.match(text, /^# TYPE analytics_events_emitted_total counter$/m)
  t.match(text, /^analytics_events_emitted_total\{otel_scope_name="fastify-analytics"\} 3$/m, 'three page views')
  t.match(text, /^analytics_collector_events_delivered_total\{analytics_collector_name="memory",otel_scope_name="fastify-analytics"\} 3$/m)
  t.match(text, /^analytics_events_skipped_total\{analytics_skip_reason="ignored",otel_scope_name="fastify-analytics"\} 0$/m, 'the scrape itself is no event (route config false) and is counted ignored only after it ran')
  t.match(text, /^# TYPE analytics_collector_events_queued gauge$/m, 'queue sizes are gauges')
  t.match(text, /^analytics_collector_events_queued\{analytics_collector_name="memory",otel_scope_name="fastify-analytics"\} 0$/m, 'queue sizes are gauges, not counters')

  const again = await (await fetch(`${origin}/metrics`)).text()
  t.match(again, /^analytics_events_skipped_total\{analytics_skip_reason="ignored",otel_scope_name="fastify-analytics"\} 1$/m, 'the first scrape was counted ignored')
})

test('analyticsMetrics needs fastify-analytics registered first, and a MeterProvider', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  app.register(analyticsMetrics, {})
  await t.rejects(async () => { await app.ready() }, /fastify-analytics/)

  const other = Fastify()
  t.teardown(() => other.close())
  await other.register(analytics, { collectors: [] })
  other.register(analyticsMetrics, { meterProvider: {} as never })
  await t.rejects(async () => { await other.ready() }, { code: 'FST_ANALYTICS_INVALID_OPTION', message: /meterProvider must be an OpenTelemetry MeterProvider/ })
})

test('without a meterProvider, the global one is used; closing the app removes the callback', async (t) => {
  const { metrics } = await import('@opentelemetry/api')
  const reader = new PeriodicExportingMetricReader({ exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE), exportIntervalMillis: 3_600_000 })
  const meterProvider = new MeterProvider({ readers: [reader] })
  metrics.setGlobalMeterProvider(meterProvider)
  t.teardown(async () => { metrics.disable(); await meterProvider.shutdown() })
  const app = Fastify()
  await app.register(analytics, { collectors: [memoryCollector()] })
  await app.register(analyticsMetrics)
  await app.ready()
  app.analytics.track({ type: EventType.Custom, eventName: 'x' })
  t.same(points((await reader.collect()).resourceMetrics).get(ANALYTICS_METRICS.emitted), [[{}, 1]])
  await app.close()
  const after = points((await reader.collect()).resourceMetrics).get(ANALYTICS_METRICS.emitted) ?? []
  t.ok(after.length === 0 || after[0][1] === 1, 'no reading of a closed app after close (the last value stays, no new one)')
})
