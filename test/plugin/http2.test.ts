import { test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Stream } from 'node:http2'
import { request as httpsRequest } from 'node:https'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { generate } from 'selfsigned'
import analytics from '../../lib/index.js'
import { memoryCollector, type MemoryCollector } from '../../lib/testing.js'
import { COUNT_EVERYTHING, type TapTest } from '../helpers/collectors.js'

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = constants
const HANDLER_MS = 300
const CANCEL_AFTER_MS = 50

// Fastify's `https` + `http2` options build the server with createSecureServer (TLS + ALPN), a
// different listener from the cleartext createServer; both hand requests to the same compat API.
const tls = generate([{ name: 'commonName', value: 'localhost' }], {
  keySize: 2048,
  extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }]
})

type Http2App = FastifyInstance<Http2Server, Http2ServerRequest, Http2ServerResponse>

interface H2App {
  app: Http2App
  collector: MemoryCollector
  /** Resolves when the slow handler has returned its response (so a late second event would be visible). */
  handlerDone: Promise<void>
  client: ClientHttp2Session
  /** Resolves when the slow handler has started. */
  inHandler: Promise<void>
}

async function h2App (t: TapTest, secure: boolean): Promise<H2App> {
  const collector = memoryCollector()
  // One static type for both: the secure instance differs only in its server class.
  const app = (secure
    ? Fastify({ http2: true, https: { key: (await tls).private, cert: (await tls).cert, allowHTTP1: true } })
    : Fastify({ http2: true })) as Http2App
  // About response status, not classification: every GET counts, and node:http2's client sends no User-Agent.
  await app.register(analytics, { ...COUNT_EVERYTHING, collectors: [collector] })
  let entered: () => void = () => {}
  let returned: () => void = () => {}
  const inHandler = new Promise<void>((resolve) => { entered = resolve })
  const handlerDone = new Promise<void>((resolve) => { returned = resolve })
  const page = { analytics: { type: 'pageview' as const } }
  app.get('/slow', { config: page }, async (_request, reply) => {
    entered()
    await sleep(HANDLER_MS)
    setImmediate(returned)
    return reply.type('text/html').send('<p>late</p>')
  })
  app.get('/fast', { config: page }, async (_request, reply) => reply.type('text/html').send('<p>ok</p>'))
  app.get('/pushes', { config: page }, async (request, reply) => {
    // The pushed stream never goes through Fastify's routing: its reset must not touch this request.
    const pushed = await new Promise<ServerHttp2Stream>((resolve, reject) => {
      request.raw.stream.pushStream({ ':path': '/style.css' }, (error, stream) => error ? reject(error) : resolve(stream))
    })
    pushed.on('error', () => {})
    pushed.respond({ ':status': 200, 'content-type': 'text/css' })
    pushed.write('p{}')
    await sleep(CANCEL_AFTER_MS * 2) // the client cancels the push meanwhile
    return reply.type('text/html').send('<p>with push</p>')
  })
  app.get('/refused', { config: page }, async (request, reply) => {
    reply.hijack()
    request.raw.stream.close(NGHTTP2_REFUSED_STREAM)
  })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const client = connect(`${secure ? 'https' : 'http'}://127.0.0.1:${port}`, secure ? { ca: (await tls).cert } : {})
  client.on('error', () => {})
  // tap runs teardowns last-in-first-out: the client goes first, so close() is not held by its session.
  t.teardown(() => app.close())
  t.teardown(() => { client.destroy() })
  return { app, collector, handlerDone, client, inHandler }
}

function get (client: ClientHttp2Session, path: string): ClientHttp2Stream {
  const stream = client.request({ ':path': path })
  stream.on('error', () => {})
  stream.resume()
  return stream
}

for (const secure of [false, true]) {
  const label = secure ? 'HTTPS + HTTP/2' : 'HTTP/2'

  test(`${label}: a stream the client cancels before the response gives one event with status 499`, async (t) => {
    const { app, collector, handlerDone, client, inHandler } = await h2App(t, secure)
    const stream = get(client, '/slow')
    await inHandler
    await sleep(CANCEL_AFTER_MS)
    stream.close(NGHTTP2_CANCEL)
    await collector.waitFor(1)
    await handlerDone
    client.close()
    await app.close()
    t.equal(collector.events.length, 1, 'one event, not a second one when the handler finishes')
    t.match(collector.events[0], { type: 'pageview', statusCode: 499, path: '/slow', method: 'GET' })
  })

  test(`${label}: a client that drops its connection mid-request gives status 499`, async (t) => {
    const { app, collector, handlerDone, client, inHandler } = await h2App(t, secure)
    get(client, '/slow')
    await inHandler
    client.destroy()
    await collector.waitFor(1)
    await handlerDone
    await app.close()
    t.equal(collector.events.length, 1)
    t.match(collector.events[0], { statusCode: 499, path: '/slow' })
  })

  test(`${label}: a stream cancelled after its response keeps the real status`, async (t) => {
    const { app, collector, client } = await h2App(t, secure)
    const stream = get(client, '/fast')
    const [headers] = await once(stream, 'response') as [Record<string, unknown>]
    t.equal(headers[':status'], 200)
    await once(stream, 'end')
    stream.close(NGHTTP2_CANCEL)
    await collector.waitFor(1)
    client.close()
    await app.close()
    t.equal(collector.events.length, 1)
    t.match(collector.events[0], { type: 'pageview', statusCode: 200, path: '/fast' })
  })

  test(`${label}: a normal request keeps its status`, async (t) => {
    const { app, collector, client } = await h2App(t, secure)
    const stream = get(client, '/slow')
    await once(stream, 'end')
    client.close()
    await app.close()
    t.equal(collector.events.length, 1)
    t.match(collector.events[0], { type: 'pageview', statusCode: 200, path: '/slow' })
  })
}

test('HTTP/2: a server push the client cancels is not an abandoned request', async (t) => {
  const { app, collector, client } = await h2App(t, false)
  client.on('stream', (pushed: ClientHttp2Stream) => {
    pushed.on('error', () => {})
    pushed.close(NGHTTP2_CANCEL)
  })
  const stream = get(client, '/pushes')
  await once(stream, 'end')
  client.close()
  await app.close()
  t.equal(collector.events.length, 1, 'the pushed stream is no request of its own')
  t.match(collector.events[0], { statusCode: 200, path: '/pushes' })
})

test('HTTP/2: a stream the server resets itself is a failed response, not an abandoned one', async (t) => {
  const { app, collector, client } = await h2App(t, false)
  const stream = get(client, '/refused')
  await new Promise((resolve) => stream.on('close', resolve))
  t.equal(stream.rstCode, NGHTTP2_REFUSED_STREAM)
  await collector.waitFor(1)
  client.close()
  await app.close()
  t.equal(collector.events.length, 1)
  t.match(collector.events[0], { statusCode: 500, path: '/refused' })
})

test('HTTPS + HTTP/2 with allowHTTP1: an HTTP/1.1 client that leaves still gives 499', async (t) => {
  const { app, collector, handlerDone, inHandler, client } = await h2App(t, true)
  client.close() // this test speaks HTTP/1.1 only
  const { port } = app.server.address() as { port: number }
  const request = httpsRequest({ host: '127.0.0.1', port, path: '/slow', ca: (await tls).cert, agent: false })
  request.on('error', () => {})
  request.end()
  await inHandler
  request.destroy()
  await collector.waitFor(1)
  await handlerDone
  await app.close()
  t.equal(collector.events.length, 1)
  t.match(collector.events[0], { statusCode: 499, path: '/slow' })
})
