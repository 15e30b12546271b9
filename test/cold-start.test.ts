import t from 'tap'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

// Cold start (issue 26): what an app's start loads. undici (~80 ms to load), ua-parser-js (~10 ms),
// maxmind and the country database (5 MB) are loaded at their first use, after the app listens;
// the attribution tables are built at the first lookup. Checked in a fresh process on the build, as
// an app loads it, by which CommonJS modules are in the module cache at `listening`.
// bench/cold-start.js measures the time (`npm run bench`, section 7).
const run = promisify(execFile)
const root = new URL('../', import.meta.url)

const APP = `
import { createRequire } from 'node:module'
import Fastify from 'fastify'
import analytics from 'fastify-analytics'
import { stdoutCollector } from 'fastify-analytics/stdout'
import { ga4Collector } from 'fastify-analytics/ga4'
import { plausibleCollector } from 'fastify-analytics/plausible'
const cache = createRequire(import.meta.url).cache
const loaded = () => ['undici', 'ua-parser-js', 'maxmind'].filter((name) => Object.keys(cache).some((file) => file.includes('/node_modules/' + name + '/')))
const sink = (await import('node:http')).createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(204).end()) })
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve))
const origin = 'http://127.0.0.1:' + sink.address().port
const collectors = process.argv.at(-1) === 'http'
  ? [ga4Collector({ measurementId: 'G-COLD01', apiSecret: 's', endpoint: origin, flushIntervalMs: 1 }), plausibleCollector({ domain: 'cold.example', baseUrl: origin })]
  : [stdoutCollector({ destination: '/dev/null' })]
const app = Fastify({ trustProxy: '127.0.0.1' })
await app.register(analytics, { collectors })
app.get('/', async (request, reply) => reply.type('text/html').send('<p>home</p>'))
const address = await app.listen({ port: 0, host: '127.0.0.1' })
const atListening = loaded()
await (await fetch(address + '/', { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0', 'x-forwarded-for': '8.8.8.8' } })).text()
await app.analytics.flush({ timeoutMs: 5000 })
const afterFirstEvent = loaded()
await app.close()
sink.close()
process.stdout.write(JSON.stringify({ atListening, afterFirstEvent, stats: app.analytics.stats().events.emitted, delivered: Object.values(app.analytics.stats().collectors).map((c) => c.delivered) }))
`

async function start (kind: string): Promise<{ atListening: string[], afterFirstEvent: string[], stats: number, delivered: number[] }> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', APP, kind], { cwd: root, timeout: 60_000 })
  return JSON.parse(stdout)
}

t.test('an app with the stdout collector listens without loading undici, ua-parser-js or maxmind; its first event loads the last two', async (t) => {
  const result = await start('stdout')
  t.same(result.atListening, [], 'nothing of them at listening')
  t.equal(result.stats, 1, 'the page view was emitted')
  t.same(result.afterFirstEvent.sort(), ['maxmind', 'ua-parser-js'], 'the first request parsed its User-Agent and looked its country up')
})

t.test('an app with GA4 and Plausible listens without undici; their first delivery loads it', async (t) => {
  const result = await start('http')
  t.same(result.atListening, [], 'nothing of them at listening')
  t.same(result.delivered, [1, 1], 'each delivered the page view')
  t.same(result.afterFirstEvent.sort(), ['maxmind', 'ua-parser-js', 'undici'])
})
