// Memory is bounded in bytes, not events: a destination that never answers, flooded with the largest
// events the field caps allow (a 1 MB user id each, cut; 64 properties at their cap: about 70 kB an
// event), keeps the app's RSS within a stated bound above its baseline (before the byte bounds and
// the field caps, 1 000 events of 1 MB held over 1 GB: the queue bound was 10 000 events). The 6 000
// events pass maxQueueBytes, so the engine's byte bound is what holds them. The app runs in a
// child process (fixtures/flood-app.ts), so the RSS is its own.
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { createServer, type Socket } from 'node:net'
import t, { test } from 'tap'
import type { CollectorStats, DeliveryMode } from '../../lib/index.js'

const FIXTURE = new URL('./fixtures/flood-app.ts', import.meta.url)
// The TypeScript loader tap runs us with (a worker inherits it, and refuses flags like --expose-gc).
const EXEC_ARGV = process.execArgv.filter((arg) => arg.includes('@tapjs/typescript') || arg === '--enable-source-maps')
/**
 * What the flood may add to RSS. The engine holds at most maxQueueBytes (32 MiB) queued plus its
 * batches of maxBatchBytes in flight, and their encoded bodies; strings of one-byte characters cost
 * their length. The rest is the garbage of the flood that V8 has not collected yet. In worker mode
 * the process also holds the channel (at most 32 MiB) and the worker's own heap with its copy of the
 * queue: measured +357 MB against +76 MB inline for 6 000 events, and the same for 1 000 and 3 000,
 * where unbounded queues would hold 6 000 × ~66 kB once inline (~400 MB) and twice in worker mode.
 */
const MAX_GROWTH_BYTES: Record<DeliveryMode, number> = { inline: 200 * 1024 * 1024, worker: 500 * 1024 * 1024 }
const EVENTS = 6000
t.setTimeout(300_000)

for (const delivery of ['inline', 'worker'] as DeliveryMode[]) {
  test(`${delivery}: 6 000 events as large as the field caps allow, to a destination that never answers, stay within a stated RSS growth, the excess counted queueFull`, async (t) => {
    // Accepts, reads and never answers.
    const sockets = new Set<Socket>()
    const server = createServer((socket) => { sockets.add(socket); socket.resume() })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    t.teardown(() => { for (const socket of sockets) socket.destroy(); server.close() })
    const { port } = server.address() as { port: number }
    const child = fork(FIXTURE, {
      execArgv: EXEC_ARGV,
      env: { ...process.env, DELIVERY: delivery, URL: `http://127.0.0.1:${port}/hook`, EVENTS: String(EVENTS) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
    const [report] = await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code, signal]) => { throw new Error(`the app died (code ${String(code)}, signal ${String(signal)})`) })
    ]) as [{ baseline: number, peak: number, stats: CollectorStats, truncated: number }]
    const growth = report.peak - report.baseline
    const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`
    t.ok(growth < MAX_GROWTH_BYTES[delivery], `RSS grew by ${mb(growth)} (baseline ${mb(report.baseline)}, peak ${mb(report.peak)}), under ${mb(MAX_GROWTH_BYTES[delivery])}`)
    const { stats } = report
    t.ok(report.truncated >= EVENTS, `every 1 MB user id was cut to its cap and counted (${report.truncated})`)
    // 32 MiB of ~66 kB events is about 500 queued, plus the batches in flight: the rest is refused.
    t.ok(stats.dropped.queueFull > EVENTS - 1500, `the events past the byte bound are counted queueFull (${stats.dropped.queueFull})`)
    t.equal(stats.accepted, EVENTS + 100)
    t.equal(stats.accepted, stats.delivered + stats.queued + stats.inFlight + Object.values(stats.dropped).reduce((a, b) => a + b, 0), 'accepted = delivered + Σ dropped + queued + inFlight')
  })
}
