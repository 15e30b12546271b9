import { test } from 'tap'
import type { TapTest } from '../helpers/collectors.js'
import { Agent } from 'undici'
import { Transport, MAX_RESPONSE_BODY_BYTES } from '../../lib/http/transport.js'
import { TransportError } from '../../lib/http/classify.js'
import type { OutgoingRequest } from '../../lib/batch/types.js'
import { startSink, type Sink } from '../helpers/sink.js'
import { loaded } from '../helpers/timing.js'

const request = (path = '/collect?api_secret=S3CRET'): OutgoingRequest => ({
  path,
  headers: { 'content-type': 'application/json', 'x-id': 'abc' },
  body: '{"a":1}',
  events: 1
})

async function sinkFor (t: TapTest): Promise<Sink> {
  const sink = await startSink()
  t.teardown(() => sink.close())
  return sink
}

function transportFor (t: TapTest, origin: string, timeoutMs = 2000, connections = 2): Transport {
  const transport = new Transport({ origin, connections, timeoutMs })
  t.teardown(() => transport.close())
  return transport
}

async function failure (promise: Promise<unknown>): Promise<TransportError> {
  try {
    await promise
  } catch (error) {
    if (error instanceof TransportError) return error
    throw error
  }
  throw new Error('expected a TransportError')
}

test('send POSTs the exact path, headers and body, and returns status, headers and body text', async (t) => {
  const sink = await sinkFor(t)
  sink.setPolicy(() => ({ kind: 'respond', status: 202, headers: { 'x-reply': 'yes' }, body: 'accepted' }))
  const transport = transportFor(t, sink.origin)
  const response = await transport.send(request())
  t.match(response, { statusCode: 202, body: 'accepted', headers: { 'x-reply': 'yes' } })
  t.match(sink.requests[0], { method: 'POST', url: '/collect?api_secret=S3CRET', headers: { 'content-type': 'application/json', 'x-id': 'abc' } })
  t.equal(sink.requests[0].body.toString(), '{"a":1}')
})

test('a large response body is cut at 64 KiB and drained, so the connection is reused', async (t) => {
  const sink = await sinkFor(t)
  sink.setPolicy(() => ({ kind: 'respond', status: 400, body: Buffer.alloc(200 * 1024, 'z') }))
  const transport = transportFor(t, sink.origin, 2000, 1)
  const first = await transport.send(request())
  t.equal(first.body.length, MAX_RESPONSE_BODY_BYTES)
  t.equal(first.body, 'z'.repeat(MAX_RESPONSE_BODY_BYTES))
  await transport.send(request())
  await transport.send(request())
  t.equal(sink.connections, 1, 'one keep-alive connection for three requests')
})

test('a response body over the drain limit is abandoned rather than read to the end', async (t) => {
  const sink = await sinkFor(t)
  sink.setPolicy(() => ({ kind: 'respond', status: 200, body: Buffer.alloc(3 * 1024 * 1024, 'z') }))
  const transport = transportFor(t, sink.origin)
  const response = await transport.send(request())
  t.equal(response.body.length, MAX_RESPONSE_BODY_BYTES)
})

test('a refused connection is a network error with its code, and the message holds no path', async (t) => {
  const sink = await startSink()
  const origin = sink.origin
  await sink.close()
  const transport = transportFor(t, origin)
  const error = await failure(transport.send(request()))
  t.match(error, { kind: 'network', code: 'ECONNREFUSED' })
  t.notMatch(error.message, /S3CRET|collect/)
})

test('a socket reset before the response and in the middle of it are network errors', async (t) => {
  const sink = await sinkFor(t)
  const transport = transportFor(t, sink.origin)
  sink.setPolicy(() => ({ kind: 'reset' }))
  t.match(await failure(transport.send(request())), { kind: 'network' })
  sink.setPolicy(() => ({ kind: 'resetMidResponse', status: 200 }))
  t.match(await failure(transport.send(request())), { kind: 'network' }, 'a 200 whose body breaks is not a success')
})

test('a hanging server is a timeout after timeoutMs', async (t) => {
  const sink = await sinkFor(t)
  sink.setPolicy(() => ({ kind: 'hang' }))
  const transport = transportFor(t, sink.origin, 200)
  const started = Date.now()
  const error = await failure(transport.send(request()))
  const elapsed = Date.now() - started
  t.equal(error.kind, 'timeout')
  t.match(error.code, /^(UND_ERR_HEADERS_TIMEOUT|ATTEMPT_TIMEOUT)$/)
  t.ok(elapsed >= 190 && elapsed < loaded(200), `timed out after ${elapsed} ms`)
})

test('a body dripped byte by byte cannot hold the attempt past timeoutMs (whole-attempt deadline)', async (t) => {
  const sink = await sinkFor(t)
  // Each byte arrives well within undici's body timeout, so only the attempt deadline can stop it.
  sink.setPolicy(() => ({ kind: 'drip', status: 200, bytes: 200, intervalMs: 20 }))
  const transport = transportFor(t, sink.origin, 300)
  const started = Date.now()
  const error = await failure(transport.send(request()))
  const elapsed = Date.now() - started
  t.match(error, { kind: 'timeout', code: 'ATTEMPT_TIMEOUT' })
  t.ok(elapsed < loaded(300), `stopped after ${elapsed} ms, not after the whole 4 s drip`)
})

test('the caller\'s signal aborts the attempt (aborted, not timeout)', async (t) => {
  const sink = await sinkFor(t)
  sink.setPolicy(() => ({ kind: 'hang' }))
  const transport = transportFor(t, sink.origin, 5000)
  const controller = new AbortController()
  setTimeout(() => controller.abort(), 50)
  t.match(await failure(transport.send(request(), controller.signal)), { kind: 'aborted' })
  t.match(await failure(transport.send(request(), AbortSignal.abort())), { kind: 'aborted' }, 'already aborted')
})

test('undici refusing the request itself is classified invalid', async (t) => {
  const sink = await sinkFor(t)
  const transport = transportFor(t, sink.origin)
  const error = await failure(transport.send({ ...request(), headers: { 'bad header': 'x' } }))
  t.equal(error.kind, 'invalid')
  t.equal(sink.requests.length, 0)
})

test('an injected dispatcher is used with the origin and never closed', async (t) => {
  const sink = await sinkFor(t)
  const agent = new Agent()
  t.teardown(() => agent.close())
  const transport = new Transport({ origin: sink.origin, connections: 1, timeoutMs: 1000, dispatcher: agent })
  t.equal((await transport.send(request('/via-agent'))).statusCode, 200)
  await transport.close()
  t.equal(sink.requests[0].url, '/via-agent')
  t.equal(agent.closed, false, 'the agent still belongs to its owner')
  const again = await agent.request({ origin: sink.origin, path: '/after', method: 'GET' })
  await again.body.dump()
  t.equal(again.statusCode, 200)
})

test('close waits for the pool, or destroys it when the signal fires', async (t) => {
  const sink = await sinkFor(t)
  sink.setPolicy(() => ({ kind: 'hang' }))
  const transport = new Transport({ origin: sink.origin, connections: 1, timeoutMs: 5000 })
  const pending = failure(transport.send(request()))
  await sink.waitForRequests(1)
  const started = Date.now()
  await transport.close(AbortSignal.timeout(100))
  t.ok(Date.now() - started < loaded(100), 'close returned at the signal, not after the 5 s timeout')
  t.match(await pending, { kind: 'network' }, 'the request in progress failed with the destroyed pool')

  const other = new Transport({ origin: sink.origin, connections: 1, timeoutMs: 5000 })
  await other.close(AbortSignal.abort())
  t.pass('an already-aborted signal destroys at once')
})
