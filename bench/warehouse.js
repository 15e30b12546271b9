// Section 6: warehouse delivery. Rows/s each database collector stores, and CPU per event in this
// process and in the database server, beside the webhook and GA4 collectors on the same feed.
// Starts its own throwaway PostgreSQL and ClickHouse (temporary directories, 127.0.0.1, stopped by
// PID); a database that is not installed is skipped and said so. Run alone with
// `npm run build && node bench/warehouse.js`, or by run.js (BENCH_SECTIONS=6). Bounded: an event
// count and a time limit per run.
import { execFileSync, spawn } from 'node:child_process'
import { chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify from 'fastify'
import pg from 'pg'
import analytics from 'fastify-analytics'
import { postgresCollector } from 'fastify-analytics/postgres'
import { clickhouseCollector } from 'fastify-analytics/clickhouse'
import { webhookCollector } from 'fastify-analytics/webhook'
import { ga4Collector } from 'fastify-analytics/ga4'
import { median, report, sleep, tick, trackedEvent } from './common.js'

const rounds = Number(process.env.BENCH_ROUNDS ?? 3)
const limitMs = Number(process.env.BENCH_WAREHOUSE_LIMIT_MS ?? 10_000)
const EVENTS_PER_RUN = Number(process.env.BENCH_WAREHOUSE_EVENTS ?? 100_000)
const QUEUE = 20_000
const CHUNK = 1000
const PG_BIN = '/usr/lib/postgresql/15/bin'
const CH_BIN = '/usr/sbin/clickhouse-server'
const CLK_TCK = 100

const EVENTS = Array.from({ length: 1000 }, (_, i) => trackedEvent(i))
const cleanups = []

async function freePort () {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** CPU seconds of a process and its direct children (PostgreSQL's backends are the postmaster's children). */
function treeCpuSeconds (pid) {
  let ticks = 0
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (Number(entry) === pid || Number(fields[1]) === pid) ticks += Number(fields[11]) + Number(fields[12])
    } catch {}
  }
  return ticks / CLK_TCK
}

async function startPostgres () {
  if (!existsSync(join(PG_BIN, 'initdb'))) return undefined
  const dir = mkdtempSync(join(tmpdir(), 'fa-bench-pg-'))
  const asRoot = process.getuid() === 0
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })))
  const exec = (cmd, args) => asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'ignore' }) : execFileSync(cmd, args, { stdio: 'ignore' })
  exec(join(PG_BIN, 'initdb'), ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'])
  const port = await freePort()
  // Durable settings (fsync on): the figure is what a real server takes, not a RAM disk's.
  exec(join(PG_BIN, 'pg_ctl'), ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-t', '30', '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`, 'start'])
  const pid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0])
  cleanups.push(async () => {
    try { process.kill(pid, 'SIGINT') } catch {}
    for (let i = 0; i < 200; i++) { try { process.kill(pid, 0) } catch { break } await sleep(25) }
    rmSync(dir, { recursive: true, force: true })
  })
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const count = async (table) => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      return Number((await client.query(`SELECT count(*) AS n FROM ${table}`)).rows[0].n)
    } finally { await client.end() }
  }
  return { pid, url, count }
}

async function startClickHouse () {
  if (!existsSync(CH_BIN)) return undefined
  const dir = mkdtempSync(join(tmpdir(), 'fa-bench-ch-'))
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(dir, sub))
  const [http, tcp] = [await freePort(), await freePort()]
  writeFileSync(join(dir, 'config.xml'), `<?xml version="1.0"?><yandex><logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/error.log</errorlog><console>0</console></logger>
<listen_host>127.0.0.1</listen_host><http_port>${http}</http_port><tcp_port>${tcp}</tcp_port><path>${dir}/data/</path><tmp_path>${dir}/tmp/</tmp_path>
<user_files_path>${dir}/user_files/</user_files_path><format_schema_path>${dir}/format_schemas/</format_schema_path><users_config>${dir}/users.xml</users_config>
<default_profile>default</default_profile><default_database>default</default_database><timezone>UTC</timezone><mark_cache_size>67108864</mark_cache_size><mlock_executable>false</mlock_executable></yandex>`)
  writeFileSync(join(dir, 'users.xml'), `<?xml version="1.0"?><yandex><profiles><default></default></profiles><users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
<quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas></yandex>`)
  const child = spawn(CH_BIN, [`--config-file=${join(dir, 'config.xml')}`], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${http}`
  cleanups.push(async () => {
    child.kill('SIGTERM')
    for (let i = 0; i < 400 && child.exitCode === null && child.signalCode === null; i++) await sleep(25)
    rmSync(dir, { recursive: true, force: true })
  })
  for (let i = 0; i < 600; i++) {
    try { if ((await fetch(`${url}/ping`)).ok) break } catch {}
    await sleep(50)
  }
  const count = async (table) => Number(await (await fetch(`${url}/?query=${encodeURIComponent(`SELECT count() FROM ${table}`)}`)).text())
  return { pid: child.pid, url, count }
}

/** Local HTTP receivers for the webhook and GA4 collectors: answer 204 and count requests. */
async function startSink () {
  const { createServer: createHttpServer } = await import('node:http')
  const server = createHttpServer((request, response) => {
    request.resume()
    request.on('end', () => { response.statusCode = 204; response.end() })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  cleanups.push(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${server.address().port}`
}

let tables = 0
async function measure (kind, make, server) {
  const table = `bench_${kind}_${++tables}`
  const app = Fastify({ logger: false })
  await app.register(analytics, { collectors: [make(table)] })
  await app.ready()
  const stats = () => app.analytics.stats().collectors[kind]
  const cpu0 = process.cpuUsage()
  const server0 = server === undefined ? 0 : treeCpuSeconds(server.pid)
  const started = performance.now()
  const deadline = started + limitMs
  let produced = 0
  while (produced < EVENTS_PER_RUN && performance.now() < deadline) {
    if (QUEUE - stats().queued >= CHUNK) {
      for (let i = 0; i < CHUNK; i++) app.analytics.track(EVENTS[(produced + i) % EVENTS.length])
      produced += CHUNK
      await tick()
    } else {
      await sleep(1)
    }
  }
  let s = stats()
  while (s.delivered < produced && performance.now() < deadline) {
    await sleep(1)
    s = stats()
  }
  const elapsedMs = performance.now() - started
  const cpu = process.cpuUsage(cpu0)
  const serverCpu = server === undefined ? null : treeCpuSeconds(server.pid) - server0
  await app.close()
  const stored = server === undefined ? null : await server.count(table)
  return {
    kind,
    produced,
    delivered: s.delivered,
    rowsPerSec: s.delivered / (elapsedMs / 1000),
    cpuPerEventUs: (cpu.user + cpu.system) / s.delivered,
    // The database server's CPU (user + system, all its processes) per stored row, at 10 ms resolution.
    serverCpuPerEventUs: serverCpu === null ? null : serverCpu * 1e6 / s.delivered,
    stored,
    complete: s.delivered === produced && (stored === null || stored === produced)
  }
}

const cases = []
try {
  const postgres = await startPostgres()
  const clickhouse = await startClickHouse()
  const sink = await startSink()
  if (postgres !== undefined) {
    cases.push(['postgres', (table) => postgresCollector({ connectionString: postgres.url, table, createTable: true, maxQueueSize: QUEUE, maxBatchSize: 5000 }), postgres])
  } else process.stderr.write('warehouse bench: PostgreSQL not installed (apt-get install -y postgresql), skipped\n')
  if (clickhouse !== undefined) {
    cases.push(['clickhouse', (table) => clickhouseCollector({ url: clickhouse.url, table, createTable: true, maxQueueSize: QUEUE }), clickhouse])
  } else process.stderr.write('warehouse bench: clickhouse-server not installed (apt-get install -y clickhouse-server), skipped\n')
  cases.push(['webhook', () => webhookCollector({ url: `${sink}/hook`, maxQueueSize: QUEUE }), undefined])
  cases.push(['ga4', () => ga4Collector({ measurementId: 'G-BENCH01', apiSecret: 'bench-secret', endpoint: sink, maxQueueSize: QUEUE }), undefined])

  for (const [kind, make, server] of cases) await measure(kind, make, server) // warm-up: JIT, pools
  const runs = []
  for (let round = 0; round < rounds; round++) {
    for (const [kind, make, server] of cases) runs.push(await measure(kind, make, server))
  }
  const summary = {}
  for (const [kind] of cases) {
    const mine = runs.filter((r) => r.kind === kind)
    summary[kind] = {
      rowsPerSec: median(mine.map((r) => r.rowsPerSec)),
      cpuPerEventUs: median(mine.map((r) => r.cpuPerEventUs)),
      serverCpuPerEventUs: median(mine.map((r) => r.serverCpuPerEventUs ?? NaN)),
      runs: mine
    }
  }
  if (typeof process.send !== 'function') {
    for (const [kind, s] of Object.entries(summary)) {
      process.stderr.write(`${kind.padEnd(11)} ${s.rowsPerSec.toFixed(0).padStart(7)} rows/s  ${s.cpuPerEventUs.toFixed(2).padStart(6)} µs CPU/event (app)` +
        `${Number.isFinite(s.serverCpuPerEventUs) ? `  ${s.serverCpuPerEventUs.toFixed(2).padStart(6)} µs CPU/event (server)` : ''}` +
        `  complete: ${s.runs.every((r) => r.complete)}\n`)
    }
  }
  for (const cleanup of cleanups.reverse()) await cleanup()
  report({ warehouse: summary })
} catch (error) {
  for (const cleanup of cleanups.reverse()) await cleanup()
  throw error
}
