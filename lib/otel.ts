import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { metrics, type BatchObservableCallback, type MeterProvider, type Observable } from '@opentelemetry/api'
import { DROP_REASONS } from './collector.js'
import { FST_ANALYTICS_INVALID_OPTION } from './errors.js'

export interface AnalyticsMetricsOptions {
  /** Where the instruments are created. Default: the global one (`metrics.getMeterProvider()`). */
  meterProvider?: MeterProvider
}

/** The instrumentation scope of every instrument. */
export const METER_NAME = 'fastify-analytics'

/**
 * Every instrument, by name: OpenTelemetry's naming rules (a dotted lower-case namespace, `_`
 * inside a segment, no unit or `_total` in the name: a Prometheus exporter adds those), one
 * instrument per figure of `app.analytics.stats()`, and what a figure is split by as an attribute.
 */
export const ANALYTICS_METRICS = {
  /** `stats().events.emitted`: events handed to the collectors. */
  emitted: 'analytics.events.emitted',
  /** `stats().events.skipped`, by `analytics.skip.reason` (notPage, bot, prefetch, ignored, …). */
  skipped: 'analytics.events.skipped',
  /** `stats().events.invalid`: input refused before fan-out. */
  invalid: 'analytics.events.invalid',
  /** `consentDenied`, `beforeSendDropped`, `beforeSendFailed`, by `analytics.drop.reason`. */
  withheld: 'analytics.events.withheld',
  /** `stats().events.unattached`: helper calls that found no request. */
  unattached: 'analytics.calls.unattached',
  /** `stats().events.propertiesDropped`. */
  propertiesDropped: 'analytics.properties.dropped',
  /** `stats().events.truncated`: fields cut to their cap. */
  truncated: 'analytics.fields.truncated',
  /** Per collector (`analytics.collector.name`): events it accepted. */
  accepted: 'analytics.collector.events.accepted',
  /** Per collector: events its destination confirmed. */
  delivered: 'analytics.collector.events.delivered',
  /** Per collector, by `analytics.drop.reason` (queueFull, invalid, rejected, destination, failed, shutdown, closed). */
  dropped: 'analytics.collector.events.dropped',
  /** Per collector: attempts repeated after a retryable failure. */
  retries: 'analytics.collector.retries',
  /** Per collector: events waiting in its queue now. */
  queued: 'analytics.collector.events.queued',
  /** Per collector: events in requests being sent or waiting for a retry now. */
  inFlight: 'analytics.collector.events.in_flight'
} as const

const WITHHELD = [['consentDenied', 'consent_denied'], ['beforeSendDropped', 'before_send_dropped'], ['beforeSendFailed', 'before_send_failed']] as const

/**
 * Reports `app.analytics.stats()` as OpenTelemetry observable instruments ({@link ANALYTICS_METRICS}),
 * read once per collection by one batch callback. Register it after fastify-analytics:
 * `await app.register(analyticsMetrics, { meterProvider })`. Needs `@opentelemetry/api` (an optional
 * peer dependency). The callback is removed at `onClose`.
 */
async function fastifyAnalyticsMetrics (fastify: FastifyInstance, options: AnalyticsMetricsOptions): Promise<void> {
  const provider = options.meterProvider ?? metrics.getMeterProvider()
  if (provider === null || typeof provider !== 'object' || typeof provider.getMeter !== 'function') {
    throw new FST_ANALYTICS_INVALID_OPTION('analyticsMetrics: meterProvider must be an OpenTelemetry MeterProvider')
  }
  const meter = provider.getMeter(METER_NAME)
  const counter = (name: string, description: string, unit = '{event}'): Observable => meter.createObservableCounter(name, { description, unit })
  const current = (name: string, description: string): Observable => meter.createObservableUpDownCounter(name, { description, unit: '{event}' })
  const m = ANALYTICS_METRICS
  const instruments = {
    emitted: counter(m.emitted, 'Events handed to the collectors'),
    skipped: counter(m.skipped, 'Requests that gave no automatic event, by reason'),
    invalid: counter(m.invalid, 'Events refused before fan-out: invalid input'),
    withheld: counter(m.withheld, 'Events withheld before fan-out by consent or beforeSend, by reason'),
    unattached: counter(m.unattached, 'Helper calls that found no request event and did nothing', '{call}'),
    propertiesDropped: counter(m.propertiesDropped, 'Event properties dropped: a bad value or past the cap', '{property}'),
    truncated: counter(m.truncated, 'Event fields cut to their cap', '{field}'),
    accepted: counter(m.accepted, 'Events a collector accepted'),
    delivered: counter(m.delivered, 'Events a collector delivered'),
    dropped: counter(m.dropped, 'Events a collector dropped, by reason'),
    retries: counter(m.retries, 'Attempts a collector repeated', '{retry}'),
    queued: current(m.queued, 'Events waiting in a collector\'s queue'),
    inFlight: current(m.inFlight, 'Events in a collector\'s requests being sent or awaiting a retry')
  }
  const observe: BatchObservableCallback = (result) => {
    const { events, collectors } = fastify.analytics.stats()
    result.observe(instruments.emitted, events.emitted)
    result.observe(instruments.invalid, events.invalid)
    result.observe(instruments.unattached, events.unattached)
    result.observe(instruments.propertiesDropped, events.propertiesDropped)
    result.observe(instruments.truncated, events.truncated)
    for (const [reason, value] of Object.entries(events.skipped)) {
      result.observe(instruments.skipped, value, { 'analytics.skip.reason': reason })
    }
    for (const [key, reason] of WITHHELD) result.observe(instruments.withheld, events[key], { 'analytics.drop.reason': reason })
    for (const [name, stats] of Object.entries(collectors)) {
      const collector = { 'analytics.collector.name': name }
      result.observe(instruments.accepted, stats.accepted, collector)
      result.observe(instruments.delivered, stats.delivered, collector)
      result.observe(instruments.retries, stats.retries, collector)
      result.observe(instruments.queued, stats.queued, collector)
      result.observe(instruments.inFlight, stats.inFlight, collector)
      for (const reason of DROP_REASONS) {
        result.observe(instruments.dropped, stats.dropped[reason], { ...collector, 'analytics.drop.reason': reason })
      }
    }
  }
  const observables = Object.values(instruments)
  meter.addBatchObservableCallback(observe, observables)
  fastify.addHook('onClose', async function removeAnalyticsMetrics () {
    meter.removeBatchObservableCallback(observe, observables)
  })
}

/** The metrics plugin: `app.register(analyticsMetrics, { meterProvider })`, after fastify-analytics. */
export const analyticsMetrics = fp(fastifyAnalyticsMetrics, {
  fastify: '5.x',
  name: 'fastify-analytics-otel',
  dependencies: ['fastify-analytics']
})
export default analyticsMetrics
