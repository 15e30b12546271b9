// Section 7: cold start. Time from process start to `listening` for a bare Fastify app and for the
// same app with the plugin and each collector, in both delivery modes: what the plugin adds to a
// deploy, a restart, a serverless cold start. Each measurement is a fresh Node process (nothing
// cached in memory); configurations alternate within a round (bare, stdout, …, bare, stdout, …), and
// the plugin's share is each run minus the bare run of the same round, then the median of the rounds.
// Destinations are never contacted at start except PostgreSQL and ClickHouse, whose ports here
// refuse at once (127.0.0.1, a closed port): the figure is the plugin's own work, not a network's.
//
//   node bench/cold-start.js            the table (`npm run bench` runs it as section 7)
//   BENCH_COLD_ROUNDS=9 node bench/cold-start.js
import { execFile } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { report } from './common.js'

// Not pinned like the other sections: each child is a fresh process whose start is the measure.

const run = promisify(execFile)
const HERE = fileURLToPath(import.meta.url)
const ROUNDS = Number(process.env.BENCH_COLD_ROUNDS ?? 7)
const CHILD_TIMEOUT_MS = 30_000
// BENCH_COLD_CONFIGS=stdout,ga4+plausible+postgres: only these (bare always runs, for the pairing).
const ONLY = process.env.BENCH_COLD_CONFIGS?.split(',').filter((name) => name !== '')
// BENCH_COLD_DELIVERY=inline: one delivery mode only.
const DELIVERY = process.env.BENCH_COLD_DELIVERY

/** The plugin's share of the time to listening must stay under these (issue 26), inline delivery. */
export const COLD_START_TARGETS_MS = { stdout: 50, 'ga4+plausible+postgres': 150 }

/** Each configuration: the collectors, by factory. */
const CONFIGS = {
  bare: [],
  inert: [], // the plugin with no collectors
  stdout: ['stdout'],
  ga4: ['ga4'],
  plausible: ['plausible'],
  webhook: ['webhook'],
  postgres: ['postgres'],
  clickhouse: ['clickhouse'],
  'ga4+plausible+postgres': ['ga4', 'plausible', 'postgres']
}

async function collector (name, closedPort) {
  switch (name) {
    case 'stdout': return (await import('fastify-analytics/stdout')).stdoutCollector({ destination: '/dev/null' })
    case 'ga4': return (await import('fastify-analytics/ga4')).ga4Collector({ measurementId: 'G-BENCH01', apiSecret: 'bench-secret', endpoint: `http://127.0.0.1:${closedPort}` })
    case 'plausible': return (await import('fastify-analytics/plausible')).plausibleCollector({ domain: 'bench.example', baseUrl: `http://127.0.0.1:${closedPort}` })
    case 'webhook': return (await import('fastify-analytics/webhook')).webhookCollector({ url: `http://127.0.0.1:${closedPort}/hook` })
    case 'postgres': return (await import('fastify-analytics/postgres')).postgresCollector({ connectionString: `postgres://bench@127.0.0.1:${closedPort}/bench` })
    case 'clickhouse': return (await import('fastify-analytics/clickhouse')).clickhouseCollector({ url: `http://127.0.0.1:${closedPort}` })
  }
  throw new Error(`unknown collector ${name}`)
}

/** In the child: from process start to listening, as a Fastify app written the usual way. */
async function child (config, delivery, closedPort) {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  if (config !== 'bare') {
    const { default: analytics } = await import('fastify-analytics')
    const collectors = []
    for (const name of CONFIGS[config]) collectors.push(await collector(name, closedPort))
    await app.register(analytics, { collectors, delivery, logLevel: 'silent' })
  }
  app.get('/', async (request, reply) => reply.type('text/html').send('<p>home</p>'))
  await app.listen({ port: 0, host: '127.0.0.1' })
  // performance.now() counts from the process's time origin: the whole cold start, Node's own included.
  const ms = performance.now()
  // CPU time of the process so far: what the start cost, less sensitive than wall time to other
  // work on a shared machine (the wall time waits for cores others hold).
  const { user, system } = process.cpuUsage()
  await app.close()
  process.stdout.write(JSON.stringify({ ms, cpuMs: (user + system) / 1000 }) + '\n')
}

async function closedPort () {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

async function measure (config, delivery, port) {
  const { stdout } = await run(process.execPath, [HERE, '--child', config, delivery, String(port)], { timeout: CHILD_TIMEOUT_MS })
  return JSON.parse(stdout.trim().split('\n').at(-1))
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

async function main () {
  const port = await closedPort()
  const cases = [['bare', 'inline']]
  for (const config of Object.keys(CONFIGS).filter((name) => name !== 'bare' && (ONLY === undefined || ONLY.includes(name)))) {
    if (DELIVERY !== 'worker') cases.push([config, 'inline'])
    if (CONFIGS[config].length > 0 && DELIVERY !== 'inline') cases.push([config, 'worker'])
  }
  const runs = Object.fromEntries(cases.map(([config, delivery]) => [`${config} ${delivery}`, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const [config, delivery] of cases) runs[`${config} ${delivery}`].push(await measure(config, delivery, port))
  }
  const bare = runs['bare inline']
  const rows = cases.map(([config, delivery]) => {
    const key = `${config} ${delivery}`
    const added = runs[key].map((run, round) => run.ms - bare[round].ms)
    const addedCpu = runs[key].map((run, round) => run.cpuMs - bare[round].cpuMs)
    const target = delivery === 'inline' ? COLD_START_TARGETS_MS[config] : undefined
    return {
      config,
      delivery,
      msMedian: median(runs[key].map((run) => run.ms)),
      addedMedian: median(added),
      added,
      addedCpuMedian: median(addedCpu),
      target
    }
  })
  return { rounds: ROUNDS, node: process.version, rows }
}

function table ({ rounds, node, rows }) {
  const lines = [`Time to listening, median of ${rounds} rounds, Node ${node}; added = the run minus bare in the same round; CPU time is the process's user + system time at listening (less moved by other work on the machine than wall time).`, '']
  lines.push('| configuration | delivery | to listening, ms | added by the plugin, ms (min–max) | added CPU time, ms | target (added ms) |', '|---|---|---:|---:|---:|---|')
  for (const row of rows) {
    const spread = row.config === 'bare' ? '—' : `${row.addedMedian.toFixed(0)} (${Math.min(...row.added).toFixed(0)}–${Math.max(...row.added).toFixed(0)})`
    const verdict = row.target === undefined ? '' : `< ${row.target}: ${row.addedMedian < row.target ? 'met' : 'MISSED'}`
    const cpu = row.config === 'bare' ? '—' : row.addedCpuMedian.toFixed(0)
    lines.push(`| ${row.config} | ${row.config === 'bare' ? '—' : row.delivery} | ${row.msMedian.toFixed(0)} | ${spread} | ${cpu} | ${verdict} |`)
  }
  return lines.join('\n')
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], Number(process.argv[5]))
} else {
  const result = await main()
  if (typeof process.send === 'function') report({ coldStart: { ...result, markdown: table(result) } })
  else process.stdout.write(table(result) + '\n')
}
