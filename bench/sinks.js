// Local HTTP sinks standing in for the destinations: GA4 /mp/collect (204), Plausible /api/event
// (202), the webhook (200), PostHog /batch/, Mixpanel /import, Segment /v1/batch (the SDK and the plugin's collector) and Umami /api/send. Each counts the requests and
// events it received. An admin server (GET /counts, POST /reset, POST /mode/ok|hang) lets any
// benchmark process read and steer them. Run standalone: prints one JSON line with the URLs.
import { createServer } from 'node:http'
import { gunzipSync } from 'node:zlib'

// Counting by a marker that occurs once per event keeps the sink cheap at 150 000 events/s
// (a full JSON.parse of every 350 kB webhook body would compete with autocannon for core 0).
// Every VALIDATE_EVERY-th request is parsed in full to check the marker count is right.
const VALIDATE_EVERY = 97

const KINDS = {
  ga4: {
    path: '/mp/collect',
    status: 204,
    count: (body) => occurrences(body, '"timestamp_micros":'),
    parse: (body) => JSON.parse(body).events.length
  },
  plausible: {
    path: '/api/event',
    status: 202,
    count: () => 1,
    parse: (body) => { const b = JSON.parse(body); return typeof b.name === 'string' && typeof b.domain === 'string' ? 1 : 0 }
  },
  webhook: {
    path: '/hook',
    status: 200,
    // A top-level key of every event (the JSON form begins with "id" since events carry one; the
    // bench's properties never use this name).
    count: (body) => occurrences(body, ',"eventName":"'),
    parse: (body) => JSON.parse(body).events.length
  },
  posthog: {
    path: '/batch/',
    status: 200,
    reply: '{"status":"Ok"}',
    count: (body) => JSON.parse(body).batch.length
  },
  // Mixpanel /import: the collector POSTs a (gzipped) JSON array; the `mixpanel` SDK GETs one event
  // base64-encoded in `data=` and reads a body of "1" as success.
  mixpanel: {
    path: '/import',
    status: 200,
    reply: '1',
    count: (body, url) => {
      const data = new URL(url, 'http://sink').searchParams.get('data')
      if (data === null) return JSON.parse(body).length
      const decoded = JSON.parse(Buffer.from(data, 'base64').toString('utf8'))
      return Array.isArray(decoded) ? decoded.length : 1
    }
  },
  segment: {
    path: '/v1/batch',
    status: 200,
    reply: '{}',
    count: (body) => JSON.parse(body).batch.length
  },
  umami: {
    path: '/api/send',
    status: 200,
    reply: '{"cache":"bench"}',
    count: () => 1,
    parse: (body) => { const b = JSON.parse(body); return b.type === 'event' && typeof b.payload?.website === 'string' ? 1 : 0 }
  }
}

// Section 3 feeds each vendor SDK through a sink of its own: an SDK that gives up on shutdown with a
// batch still in flight would otherwise land it in the next run's counts, its collector's.
for (const kind of ['posthog', 'mixpanel', 'segment']) KINDS[`${kind}-sdk`] = KINDS[kind]

function occurrences (buffer, marker) {
  let n = 0
  let at = buffer.indexOf(marker)
  while (at !== -1) {
    n++
    at = buffer.indexOf(marker, at + marker.length)
  }
  return n
}

function listen (server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server.address().port))
  })
}

export async function startSinks () {
  let mode = 'ok'
  const hung = new Set()
  const counts = {}
  const servers = []
  const urls = {}

  for (const [kind, spec] of Object.entries(KINDS)) {
    const c = counts[kind] = { requests: 0, events: 0, bytes: 0, hung: 0, mismatches: 0, errors: 0 }
    const server = createServer((req, res) => {
      const chunks = []
      req.on('data', (chunk) => chunks.push(chunk))
      req.on('end', () => {
        if (mode === 'hang') {
          // Accept, read, never answer: the worst a destination can do to a client.
          c.hung++
          hung.add(res)
          res.on('close', () => hung.delete(res))
          return
        }
        let body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
        c.requests++
        c.bytes += body.length
        try {
          if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body)
          const events = spec.count(body, req.url)
          c.events += events
          if (spec.parse !== undefined && c.requests % VALIDATE_EVERY === 1 && spec.parse(body.toString()) !== events) c.mismatches++
          res.writeHead(spec.status, spec.reply === undefined ? {} : { 'content-type': spec.reply === '1' ? 'text/plain' : 'application/json' })
          res.end(spec.status === 204 ? undefined : spec.reply ?? '')
        } catch {
          c.errors++
          res.writeHead(400)
          res.end()
        }
      })
    })
    // Hung requests must stay hung for the whole outage, not be cut by Node's request timeout.
    server.requestTimeout = 0
    server.headersTimeout = 0
    const port = await listen(server)
    servers.push(server)
    urls[kind] = `http://127.0.0.1:${port}`
  }
  urls.webhook += KINDS.webhook.path

  const admin = createServer((req, res) => {
    const reply = (value) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(JSON.stringify(value)) }
    if (req.method === 'GET' && req.url === '/counts') return reply({ mode, counts })
    if (req.method === 'POST' && req.url === '/reset') {
      for (const c of Object.values(counts)) Object.assign(c, { requests: 0, events: 0, bytes: 0, hung: 0, mismatches: 0, errors: 0 })
      return reply({ ok: true })
    }
    if (req.method === 'POST' && (req.url === '/mode/ok' || req.url === '/mode/hang')) {
      mode = req.url.slice('/mode/'.length)
      if (mode === 'ok') {
        // Back to healthy: cut what was held, as a restarted destination would.
        for (const res of hung) res.socket?.destroy()
        hung.clear()
      }
      return reply({ mode })
    }
    res.writeHead(404)
    res.end()
  })
  const adminPort = await listen(admin)
  urls.admin = `http://127.0.0.1:${adminPort}`

  async function close () {
    for (const res of hung) res.socket?.destroy()
    for (const server of [...servers, admin]) {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  }
  return { urls, close }
}

/** A client for the admin server, usable from any benchmark process. */
export function sinkAdmin (adminUrl) {
  const call = async (method, path) => {
    const response = await fetch(adminUrl + path, { method })
    return response.json()
  }
  return {
    counts: () => call('GET', '/counts'),
    reset: () => call('POST', '/reset'),
    mode: (mode) => call('POST', `/mode/${mode}`)
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sinks = await startSinks()
  process.stdout.write(JSON.stringify(sinks.urls) + '\n')
  const stop = () => { sinks.close().then(() => process.exit(0)) }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.on('disconnect', stop)
}
