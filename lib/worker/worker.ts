// The delivery worker: rebuilds the described collectors, decodes each wire event once, hands it
// to the collectors that accepted it, runs their lifecycle on request, and publishes their figures
// into shared memory. Everything it logs goes back to the request thread's logger.
import { parentPort, workerData } from 'node:worker_threads'
import type { AnalyticsCollector } from '../collector.js'
import type { AnalyticsEvent } from '../event.js'
import { forgetEventJSON } from '../event-json.js'
import { RateLimitedLog, type Logger } from '../log.js'
import { decodeEvent, type WireEvent, type WireValue } from './codec.js'
import { AUTOMATIC, decodeCapture, decodeTracked } from './capture-codec.js'
import { emptyEventCounters } from '../pipeline/counters.js'
import type { Pipeline } from '../pipeline/index.js'
import { libSpecifier } from '../location.js'
import { PIPELINE_ENTRY, serializeError, type FromWorker, type LogLevel, type ToWorker, type WorkerInit } from './protocol.js'
import { SnapshotWriter, zeroFigures, type CollectorFigures, type PipelineFigures } from './snapshot.js'

const port = parentPort
if (port === null) throw new Error('fastify-analytics delivery worker must run in a worker thread')
const init = workerData as WorkerInit

function post (message: FromWorker): void {
  try {
    port?.postMessage(message)
  } catch {
    // A log field that structured clone refuses (a function): send the line without its fields.
    if (message.t === 'log') port?.postMessage({ ...message, fields: {} })
  }
}

/** A logger whose lines are written by the app's logger on the request thread, with these bindings added. */
function forwardingLogger (index: number, bindings: Record<string, unknown>): Logger {
  const line = (level: LogLevel) => (fields: unknown, message?: string): void => {
    if (typeof fields === 'string') post({ t: 'log', index, level, bindings, fields: {}, message: fields })
    else post({ t: 'log', index, level, bindings, fields, message: message ?? '' })
  }
  return {
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    debug: line('debug'),
    child: (more: Record<string, unknown>) => forwardingLogger(index, { ...bindings, ...more })
  } as unknown as Logger
}

interface Slot {
  collector: AnalyticsCollector | undefined
  /** Why it could not be built: reported by its start(). */
  error: unknown
  figures: CollectorFigures
  /** Settled collect() calls of a collector without stats(), and collect promises pending. */
  done: number
  pending: number
  failed: number
  /** For collect() errors: one line per window, like the fan-out's on the request thread. */
  log: RateLimitedLog
}

async function build ({ module, factory, options }: WorkerInit['collectors'][number], index: number): Promise<Slot> {
  const slot: Slot = { collector: undefined, error: undefined, figures: zeroFigures(), done: 0, pending: 0, failed: 0, log: new RateLimitedLog(forwardingLogger(index, {})) }
  try {
    // Built-in collectors are named relative to lib/ (one spelling for both module formats); a
    // test's own collector gives its module's file URL.
    const exports = await import(module.startsWith('file:') ? module : libSpecifier(module)) as Record<string, unknown>
    const make = exports[factory]
    if (typeof make !== 'function') throw new Error(`${module} has no export ${factory}`)
    slot.collector = make(options) as AnalyticsCollector
  } catch (error) {
    slot.error = error
  }
  return slot
}

// Not a top-level await: the CommonJS build of this file cannot have one. Messages wait in the port
// until its listener is attached, once every collector is built.
let slots: Slot[] = []

const writer = new SnapshotWriter(init.snapshot)
let entriesReceived = 0

// The pipeline, when it runs here (delivery: 'worker', every collector here, no beforeSend): the
// request thread sends each request's capture, and the events are built in this thread.
const counters = emptyEventCounters()
let capturesTaken = 0
/** The pipeline's lines: the plugin's logger on the request thread (index -1: no collector's bindings). */
const pipelineLog = new RateLimitedLog(forwardingLogger(-1, {}))
let pipeline: Pipeline | undefined
let pipelineStarted: Promise<void> | undefined
/** Why the pipeline could not be built: every collector's start() reports it. */
let pipelineError: unknown

/** Loaded only when the pipeline runs here: a worker that only delivers need not load the parsers and databases. */
async function buildPipeline (): Promise<void> {
  if (init.pipeline === undefined) return
  const { Pipeline } = await import('../pipeline/index.js')
  const { visits } = init.pipeline
  const settings = { ...init.pipeline, visits: visits === false ? false as const : { timeoutMs: visits.timeoutMs, store: undefined, clock: Date.now } }
  pipeline = new Pipeline(settings, counters, pipelineLog, (event) => {
    for (let c = 0; c < slots.length; c++) collect(slots[c], event, true)
  })
}

function pipelineFigures (): PipelineFigures | undefined {
  if (pipeline === undefined) return undefined
  const skipped = counters.skipped
  const visits = pipeline.visitStats()
  return {
    captures: capturesTaken,
    emitted: counters.emitted,
    truncated: counters.truncated,
    prefetch: skipped.prefetch,
    bot: skipped.bot,
    spam: skipped.spam,
    consent: skipped.consent,
    consentDenied: counters.consentDenied,
    visitors: visits.visitors,
    evictions: visits.evictions,
    fallbacks: visits.fallbacks
  }
}

let publishing = false

/**
 * Publishes once the current task's synchronous work and microtasks are done, however many changes
 * it made (a hand-over of 256 events, a response settling a batch): the snapshot is current as soon
 * as the worker is between tasks, for the cost of one publication per task that changed anything.
 */
function schedulePublish (): void {
  if (publishing) return
  publishing = true
  queueMicrotask(publish)
}

function publish (): void {
  publishing = false
  for (const slot of slots) {
    const f = slot.figures
    for (const reason of Object.keys(f.dropped) as Array<keyof typeof f.dropped>) f.dropped[reason] = 0
    const report = slot.collector?.stats?.()
    if (report !== undefined) {
      f.delivered = report.delivered
      f.retries = report.retries
      f.queued = report.queued
      f.inFlight = report.inFlight + slot.pending
      for (const reason of Object.keys(f.dropped) as Array<keyof typeof f.dropped>) f.dropped[reason] = report.dropped[reason] ?? 0
    } else {
      f.delivered = slot.done
      f.inFlight = slot.pending
    }
    f.dropped.failed += slot.failed
  }
  writer.publish(entriesReceived, slots.map((slot) => slot.figures), pipelineFigures(), pipeline?.crawlers)
}

/** `built`: the worker's pipeline made the event (else it came over the channel). */
function collect (slot: Slot, event: AnalyticsEvent, built: boolean): void {
  // The worker's pipeline offers every event to every collector: one the collector's `events` option
  // refuses is not counted against it (events from the request thread were asked there already).
  if (built && slot.collector?.wants !== undefined) {
    try {
      if (!slot.collector.wants(event)) return
    } catch (error) {
      slot.figures.built++
      slot.failed++
      slot.log.error('wants', { err: error }, 'analytics collector\'s events filter threw; the event is counted failed')
      return
    }
  }
  if (built) slot.figures.built++
  else slot.figures.received++
  try {
    const result = slot.collector?.collect(event) as unknown
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      slot.pending++
      Promise.resolve(result as PromiseLike<void>).then(() => { slot.pending--; slot.done++; schedulePublish() }, () => { slot.pending--; slot.failed++; schedulePublish() })
      return
    }
    slot.done++
  } catch (error) {
    slot.failed++
    slot.log.error('collect', { err: error }, 'analytics collector threw in collect()')
  }
}

/** One capture (or tracked event with its facts) through the pipeline; never throws. */
function onCapture (wire: WireValue[]): void {
  capturesTaken++
  try {
    if (wire[0] === AUTOMATIC) {
      (pipeline as Pipeline).automatic(decodeCapture(wire))
    } else {
      const tracked = decodeTracked(wire)
      ;(pipeline as Pipeline).tracked(tracked.event, tracked.facts, tracked.consent)
    }
  } catch (error) {
    // One capture the worker cannot use must not take the thread (and every event it holds) down.
    for (const slot of slots) {
      slot.figures.built++
      slot.failed++
    }
    pipelineLog.error('capture', { err: error }, 'analytics capture could not be turned into an event in the delivery worker; counted failed')
  }
}

function onEvents (entries: Array<WireEvent | WireValue[] | number>): void {
  for (let i = 0; i < entries.length; i += 2) {
    const mask = entries[i + 1] as number
    entriesReceived++
    if (mask === PIPELINE_ENTRY) {
      onCapture(entries[i] as WireValue[])
      continue
    }
    if (mask === 0) continue
    let event: AnalyticsEvent
    try {
      event = decodeEvent(entries[i] as WireEvent)
    } catch (error) {
      // One event the worker cannot rebuild must not take the thread (and every event it holds) down.
      for (let c = 0; c < slots.length; c++) {
        if ((mask & (1 << c)) === 0) continue
        slots[c].figures.received++
        slots[c].failed++
        slots[c].log.error('decode', { err: error }, 'analytics event could not be rebuilt in the delivery worker; counted failed')
      }
      continue
    }
    for (let c = 0; c < slots.length; c++) if ((mask & (1 << c)) !== 0) collect(slots[c], event, false)
  }
  // As the fan-out does after each event: the shared JSON strings of the last event are not kept.
  forgetEventJSON()
  schedulePublish()
}

const calls = new Map<number, AbortController>()

// No timer: the built-in collectors call their context's onStatsChange on every change. Events taken
// for a request are published at once, before the request leaves; other changes once the task is done.
const onStatsChange = (beforeRequest: boolean): void => { if (beforeRequest) publish(); else schedulePublish() }

async function onCall (id: number, index: number, member: 'start' | 'flush' | 'close'): Promise<void> {
  const slot = slots[index]
  const controller = new AbortController()
  calls.set(id, controller)
  let error: unknown
  try {
    if (slot.collector === undefined) throw slot.error
    if (member === 'start') {
      if (pipelineError !== undefined) throw pipelineError
      await slot.collector.start(controller.signal, { log: forwardingLogger(index, {}), onStatsChange })
      pipelineStarted ??= pipeline?.start()
      await pipelineStarted
    } else {
      // Events still waiting for the visit store are accepted events: they reach the collectors first.
      await pipeline?.settled()
      await slot.collector[member](controller.signal)
    }
  } catch (thrown) {
    error = thrown ?? new Error(`${member}() failed`)
  }
  calls.delete(id)
  publish()
  post(error === undefined ? { t: 'done', id } : { t: 'done', id, error: serializeError(error) })
}

function onMessage (message: ToWorker): void {
  switch (message.t) {
    case 'events': onEvents(message.entries); break
    case 'call': void onCall(message.id, message.index, message.member); break
    case 'abort': calls.get(message.id)?.abort(new Error('deadline reached')); break
  }
}

void Promise.all([Promise.all(init.collectors.map(build)), buildPipeline().catch((error: unknown) => { pipelineError = error })]).then(([built]) => {
  slots = built
  port.on('message', onMessage)
  publish()
})
