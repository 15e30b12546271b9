// What the README promises about process ends: under close-with-grace a SIGTERM delivers what is
// queued (or counts it `shutdown` at shutdownTimeoutMs) and the process exits 0; a grace delay
// shorter than shutdownTimeoutMs kills the process before the summary; a crash (SIGKILL) loses at
// most what arrived within the last flush interval and round trip. Plus ordering and duplicates
// as a webhook receiver sees them. The app runs in a child process (test/faults/fixtures).
import { fork, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'tap'
import Fastify from 'fastify'
import analytics, { EventType } from '../../lib/index.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { COUNT_EVERYTHING, type TapTest } from '../helpers/collectors.js'
import { startSink, type Sink, type SinkPolicy } from '../helpers/sink.js'
import { webhookRules } from '../servers/webhook-rules.js'

const FIXTURE = new URL('./fixtures/graceful-app.ts', import.meta.url)
// The TypeScript loader tap runs us with, for the child (not tap's coverage or process hooks).
const EXEC_ARGV = process.execArgv.filter((arg) => arg.includes('@tapjs/typescript') || arg === '--enable-source-maps')

interface Child {
  process: ChildProcess
  lines: () => Array<Record<string, unknown>>
  output: () => string
  exit: Promise<{ code: number | null, signal: NodeJS.Signals | null, at: number }>
}

async function startApp (t: TapTest, env: Record<string, string | number>): Promise<Child> {
  let output = ''
  const child = fork(FIXTURE, {
    execArgv: EXEC_ARGV,
    env: { ...process.env, ...Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc']
  })
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
  const exit = once(child, 'exit').then(([code, signal]) => ({ code: code as number | null, signal: signal as NodeJS.Signals | null, at: Date.now() }))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const [message] = await Promise.race([
    once(child, 'message'),
    exit.then((e) => { throw new Error(`the app exited early (${JSON.stringify(e)}): ${output}`) })
  ]) as [unknown]
  if ((message as { ready?: boolean }).ready !== true) throw new Error('unexpected message')
  return {
    process: child,
    output: () => output,
    lines: () => output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>),
    exit
  }
}

function eventsReceived (sink: Sink): Array<{ properties: Record<string, string> }> {
  return sink.requests.flatMap((request) => (JSON.parse(request.body.toString('utf8')) as { events: Array<{ properties: Record<string, string> }> }).events)
}

test('SIGTERM under close-with-grace: every queued event is delivered, one summary line, exit code 0', async (t) => {
  const sink = await startSink({ validate: webhookRules({ path: '/hook' }), policy: () => ({ kind: 'respond', status: 204 }) })
  t.teardown(() => sink.close())
  // The flush interval is a minute: the events are still queued when SIGTERM arrives.
  const app = await startApp(t, { SINK_URL: `${sink.origin}/hook`, EVENTS: 120 })
  t.equal(sink.requests.length, 0, 'nothing sent yet')
  app.process.kill('SIGTERM')
  const exit = await app.exit
  t.same({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, 'the process exits 0 by itself')
  t.equal(eventsReceived(sink).length, 120, 'every event reached the destination before the process exited')
  t.same(sink.violations, [])
  const summary = app.lines().filter((line) => line.msg === 'analytics collector closed')
  t.equal(summary.length, 1, 'one summary line')
  t.match(summary[0], { collector: 'webhook', accepted: 120, delivered: 120, unaccounted: 0 })
})

test('SIGTERM with a dead destination: the plugin gives up at shutdownTimeoutMs, counts the events shutdown, and the process still exits 0 within the grace delay', async (t) => {
  const sink = await startSink({ policy: () => ({ kind: 'hang' }) })
  t.teardown(() => sink.close())
  const app = await startApp(t, { SINK_URL: `${sink.origin}/hook`, EVENTS: 120, SHUTDOWN_TIMEOUT_MS: 300, GRACE_DELAY_MS: 5000 })
  const sent = Date.now()
  app.process.kill('SIGTERM')
  const exit = await app.exit
  t.same({ code: exit.code, signal: exit.signal }, { code: 0, signal: null }, 'exit 0: close() returned before close-with-grace\'s delay')
  t.ok(exit.at - sent < 5000, `exited after ${exit.at - sent} ms, before the 5 s grace delay`)
  const summary = app.lines().find((line) => line.msg === 'analytics collector closed with dropped events')
  t.match(summary, { accepted: 120, delivered: 0, dropped: { shutdown: 120 }, unaccounted: 0 }, 'what the dead destination never took is counted shutdown')
})

test('a grace delay shorter than shutdownTimeoutMs kills the process before the analytics summary (keep delay > shutdownTimeoutMs)', async (t) => {
  const sink = await startSink({ policy: () => ({ kind: 'hang' }) })
  t.teardown(() => sink.close())
  const app = await startApp(t, { SINK_URL: `${sink.origin}/hook`, EVENTS: 20, SHUTDOWN_TIMEOUT_MS: 3000, GRACE_DELAY_MS: 200 })
  app.process.kill('SIGTERM')
  const exit = await app.exit
  t.equal(exit.code, 1, 'close-with-grace exits 1: killed by timeout')
  t.match(app.output(), /killed by timeout \(200ms\)/)
  t.notOk(app.lines().some((line) => String(line.msg).startsWith('analytics collector closed')), 'no summary: the accounting of this run is lost')
})

test('a crash (SIGKILL) loses at most the events of the last flush interval and round trip', async (t) => {
  const sink = await startSink({ policy: () => ({ kind: 'respond', status: 204 }) })
  t.teardown(() => sink.close())
  const FLUSH_INTERVAL_MS = 100
  const app = await startApp(t, { SINK_URL: `${sink.origin}/hook`, TICK_MS: 5, FLUSH_INTERVAL_MS })
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const killedAt = Date.now()
  app.process.kill('SIGKILL')
  await app.exit
  await new Promise((resolve) => setTimeout(resolve, 50))
  const received = eventsReceived(sink).map((event) => ({ seq: Number(event.properties.seq), at: Number(event.properties.at) }))
  t.ok(received.length > 50, `${received.length} events arrived before the crash`)
  const seqs = new Set(received.map((event) => event.seq))
  const highest = Math.max(...seqs)
  const missing = Array.from({ length: highest + 1 }, (_, seq) => seq).filter((seq) => !seqs.has(seq))
  t.same(missing, [], 'no gap: every event up to the last one received arrived')
  // Whatever was tracked before the last flush interval (plus a generous round trip) had left.
  const lastArrivedAt = Math.max(...received.map((event) => event.at))
  t.ok(killedAt - lastArrivedAt < FLUSH_INTERVAL_MS + 1000,
    `the newest event that arrived was tracked ${killedAt - lastArrivedAt} ms before the crash (flush interval ${FLUSH_INTERVAL_MS} ms)`)
})

test('webhook ordering: with concurrency 1, batches arrive in order through retries; a lost response re-sends the same id', async (t) => {
  let n = 0
  // Every third request fails once: as a 503, or as a response lost after the receiver got the body.
  const policy: SinkPolicy = () => {
    n++
    if (n % 6 === 1) return { kind: 'respond', status: 503 }
    if (n % 6 === 4) return { kind: 'delay', ms: 400, status: 204 }
    return { kind: 'respond', status: 204 }
  }
  const sink = await startSink({ validate: webhookRules({ path: '/hook' }), policy })
  t.teardown(() => sink.close())
  const app = Fastify()
  t.teardown(() => app.close())
  await app.register(analytics, {
    ...COUNT_EVERYTHING,
    collectors: [webhookCollector({ url: `${sink.origin}/hook`, maxBatchSize: 7, flushIntervalMs: 5, timeoutMs: 200, retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 5 } })]
  })
  await app.ready()
  for (let seq = 0; seq < 100; seq++) {
    app.analytics.track({ type: EventType.Custom, eventName: 'ordered', properties: { seq } })
    if (seq % 10 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  await app.close()
  t.match(app.analytics.stats().collectors.webhook, { accepted: 100, delivered: 100 })
  // What a receiver that processes each id once (README) ends up with.
  const processed = new Set<string>()
  const order: number[] = []
  let duplicates = 0
  for (const [index, request] of sink.requests.entries()) {
    if ((index + 1) % 6 === 1) continue // answered 503: the receiver did not process it
    const body = JSON.parse(request.body.toString('utf8')) as { id: string, events: Array<{ properties: { seq: string } }> }
    if (processed.has(body.id)) { duplicates++; continue }
    processed.add(body.id)
    order.push(...body.events.map((event) => Number(event.properties.seq)))
  }
  t.same(order, Array.from({ length: 100 }, (_, i) => i), 'deduplicated by id, the receiver sees every event once, in order')
  t.ok(duplicates > 0, `${duplicates} batches arrived twice (lost responses), each with the id it had the first time`)
  t.same(sink.violations, [])
})
