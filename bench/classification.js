// What deciding "is this a person on a page?" costs a request: in-process, CPU time per request
// (process.cpuUsage, so other processes on a shared machine distort it less than throughput),
// configurations interleaved round by round. Run after `npm run build`:
//
//   node bench/classification.js                 # bare vs this tree's plugin (discard collector)
//   node bench/classification.js /path/to/dist   # … and a second build, e.g. the previous commit's:
//                                                #   git clone . /tmp/prev && cd /tmp/prev && git checkout <commit> && npm ci && npm run build
//
// Also prints the classifier's own cost per call (cache hit, cache miss). Bounded: ROUNDS × REQUESTS
// injects per configuration, and a 240 s ceiling.
import Fastify from 'fastify'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { loadRequests } from './common.js'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const REQUESTS = Number(process.env.REQUESTS ?? 20_000)
const DEADLINE = Date.now() + 240_000
const HERE = new URL('.', import.meta.url)
const ownDist = new URL('../dist/lib/', HERE)
const otherDist = process.argv[2] === undefined ? undefined : pathToFileURL(resolve(process.argv[2]) + '/lib/')

const discard = { name: 'discard', start () {}, collect () {}, flush () {}, close () {} }
const page = '<!doctype html><title>Bench product</title><h1>Product</h1><p>£29.99</p>'
const requests = loadRequests()
const NOEVENT = process.env.NOEVENT === '1'

async function build (dist) {
  const app = Fastify({ logger: false })
  if (dist !== undefined) {
    const { default: analytics } = await import(new URL('index.js', dist).href)
    await app.register(analytics, { collectors: [discard], requestContext: false })
  }
  app.get('/products/:id', async (request, reply) => {
    // NOEVENT=1: a JSON answer, which yields no event under the default pageViews: 'html'.
    if (NOEVENT) return { product: request.params.id }
    reply.type('text/html; charset=utf-8')
    return page
  })
  await app.ready()
  return app
}

async function measure (app) {
  const start = process.cpuUsage()
  for (let i = 0; i < REQUESTS; i++) {
    const r = requests[i % requests.length]
    // Fresh header strings, as a parsed request has: a cached string hash would flatter the LRU.
    await app.inject({ method: 'GET', url: r.path, headers: { ...r.headers, 'user-agent': `${r.headers['user-agent']} ` } })
  }
  const used = process.cpuUsage(start)
  return (used.user + used.system) / REQUESTS
}

const configs = [['bare', undefined], ['plugin (this tree)', ownDist]]
if (otherDist !== undefined) configs.push([`plugin (${process.argv[2]})`, otherDist])
const apps = []
for (const [name, dist] of configs) apps.push({ name, app: await build(dist), figures: [] })

for (let round = 0; round < ROUNDS && Date.now() < DEADLINE; round++) {
  // Rotate the order each round so warm-up and drift do not favour one configuration.
  for (let k = 0; k < apps.length; k++) {
    const entry = apps[(round + k) % apps.length]
    entry.figures.push(await measure(entry.app))
  }
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const bare = apps[0].figures
console.log(`CPU µs per request (median of ${bare.length} rounds of ${REQUESTS} injects; ratio = bare ÷ config, paired per round)`)
for (const entry of apps) {
  const ratios = entry.figures.map((us, i) => bare[i] / us)
  console.log(`${entry.name.padEnd(40)} ${median(entry.figures).toFixed(2).padStart(7)} µs   × bare ${median(ratios).toFixed(3)}  (rounds: ${entry.figures.map((v) => v.toFixed(1)).join(', ')})`)
}
for (const { app } of apps) await app.close()

// The classifier alone: the per-request lookup, and a parse (a user agent not seen before).
const { ClientClassifier } = await import(new URL('client.js', ownDist).href)
const classifier = new ClientClassifier(true)
const fake = { headers: {} }
const agents = requests.map((r) => r.headers['user-agent'])
for (const agent of agents) classifier.classify(fake, agent)
let t = process.hrtime.bigint()
const HITS = 200_000
for (let i = 0; i < HITS; i++) classifier.classify(fake, `${agents[i % agents.length]} `.slice(0, -1))
const hitNs = Number(process.hrtime.bigint() - t) / HITS
const MISSES = 5_000
t = process.hrtime.bigint()
for (let i = 0; i < MISSES; i++) classifier.classify(fake, `${agents[i % agents.length]} v${i}`)
const missNs = Number(process.hrtime.bigint() - t) / MISSES
console.log(`classifier: ${(hitNs / 1000).toFixed(2)} µs per cached user agent, ${(missNs / 1000).toFixed(1)} µs per new one (parse + isbot)`)
