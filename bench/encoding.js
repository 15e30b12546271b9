// What encoding an event costs stdout and webhook, in process: CPU ns per event (process.cpuUsage, so
// a busy machine distorts it less than wall-clock), medians of 7 rounds, the cases interleaved round
// by round in a rotating order. Events are the page views the HTTP benchmark produces (the 50
// visitors' browser headers through app.inject), copied fresh for every round so that nothing is
// already encoded.
//   npm run build && node bench/encoding.js
//
// Cases: stdout + webhook as they were before the shared encoding (each collector builds the JSON
// form and JSON.stringify's it, pino for stdout), and as they are now (one string per event and ip
// policy, stdout's line assembled around it); stdout alone both ways; then eventToJSON +
// JSON.stringify alone. (fast-json-stringify compiled from the shipped schema was measured here at
// about 20 % below JSON.stringify per call, and rejected end to end: see lib/event-json.ts.)
// Bounded: ROUNDS × EVENTS calls per case, and a 120 s ceiling.
import Fastify from 'fastify'
import pino from 'pino'
import analytics from '../dist/modules/lib/index.js'
import { eventToJSON } from '../dist/modules/lib/event.js'
import { eventJSONString } from '../dist/modules/lib/event-json.js'
import { collectorIp } from '../dist/modules/lib/privacy/index.js'
import { stdoutCollector } from '../dist/modules/lib/collectors/stdout.js'
import { loadRequests, median } from './common.js'

const ROUNDS = 7
const EVENTS = Number(process.env.EVENTS ?? 20_000)
const DEADLINE = Date.now() + 120_000

// The bench page views, as the fan-out hands them to collectors.
const captured = []
const capture = { name: 'capture', start () {}, collect (event) { captured.push(event) }, flush () {}, close () {} }
const app = Fastify({ logger: false })
await app.register(analytics, { collectors: [capture], requestContext: false })
app.get('/products/:id', async (request, reply) => reply.type('text/html; charset=utf-8').send('<!doctype html><p>product</p>'))
for (const r of loadRequests()) await app.inject({ method: 'GET', url: r.path, headers: r.headers })
await app.close()
if (captured.length !== 50) throw new Error(`expected 50 page views, got ${captured.length}`)

const discard = { write () {} }
const before = pino({ level: 'info', base: undefined, messageKey: 'msg' }, discard)
const stdout = stdoutCollector({ destination: discard })

let sink = 0
const CASES = {
  'stdout + webhook, before (each serialises)': (event) => {
    const json = eventToJSON(event)
    json.clientIP = collectorIp(event, 'truncate')
    before.info({ event: json }, 'analytics event')
    const snapshot = eventToJSON(event)
    snapshot.clientIP = collectorIp(event, 'truncate')
    sink += JSON.stringify(snapshot).length
  },
  'stdout + webhook, one shared string': (event) => {
    stdout.collect(event)
    sink += eventJSONString(event, 'truncate').length
  },
  'stdout alone, before (pino serialises)': (event) => {
    const json = eventToJSON(event)
    json.clientIP = collectorIp(event, 'truncate')
    before.info({ event: json }, 'analytics event')
  },
  'stdout alone, now (line around the string)': (event) => { stdout.collect(event) },
  'eventToJSON + JSON.stringify': (event) => {
    const snapshot = eventToJSON(event)
    snapshot.clientIP = collectorIp(event, 'truncate')
    sink += JSON.stringify(snapshot).length
  }
}

/** Fresh copies of the bench events: a memo made in an earlier round must not flatter a case. */
function freshEvents () {
  const events = new Array(EVENTS)
  for (let i = 0; i < EVENTS; i++) events[i] = { ...captured[i % captured.length] }
  return events
}

function cpuNs (fn, events) {
  const start = process.cpuUsage()
  for (let i = 0; i < events.length; i++) fn(events[i])
  const used = process.cpuUsage(start)
  return ((used.user + used.system) * 1000) / events.length
}

const names = Object.keys(CASES)
const figures = Object.fromEntries(names.map((name) => [name, []]))
for (const name of names) cpuNs(CASES[name], freshEvents()) // warm-up: compiled and optimised before round 1
let rounds = 0
for (; rounds < ROUNDS && Date.now() < DEADLINE; rounds++) {
  for (let k = 0; k < names.length; k++) {
    const name = names[(rounds + k) % names.length]
    figures[name].push(cpuNs(CASES[name], freshEvents()))
  }
}
await stdout.close()

console.log(`Node ${process.version}, ${EVENTS} bench page views × ${rounds} rounds, CPU ns per event: median (min–max)`)
for (const name of names) {
  const f = figures[name]
  console.log(`${name.padEnd(48)} ${median(f).toFixed(0).padStart(6)} (${Math.min(...f).toFixed(0)}–${Math.max(...f).toFixed(0)})`)
}
if (sink === 0) console.log('(nothing encoded)')
