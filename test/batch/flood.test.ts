// Memory is bounded in bytes, not events: a destination that never answers, flooded with events whose
// every input is 1 MB, keeps the app's RSS within a stated bound above its baseline (before the byte
// bounds and the field caps, 1 000 events of 1 MB held over 1 GB: the queue bound was 10 000 events).
// The field caps cut each event to about 70 kB; the 1 000 that remain still pass maxQueueBytes, so the
// engine's byte bound is exercised too. The app runs in a
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
 * What the flood may add to RSS. The engine holds at most maxQueueBytes (32 MiB) queued plus one
 * batch of maxBatchBytes (16 MiB) and its encoded bodies in flight; strings of one-byte characters
 * cost their length. The rest is the garbage of 1 GB of events that V8 has not collected yet.
 */
const MAX_GROWTH_BYTES = 200 * 1024 * 1024
t.setTimeout(300_000)

for (const delivery of ['inline', 'worker'] as DeliveryMode[]) {
  test(`${delivery}: 1 000 events of 1 MB to a destination that never answers stay within baseline + 200 MB RSS, the excess counted queueFull`, async (t) => {
    // Accepts, reads and never answers.
    const sockets = new Set<Socket>()
    const server = createServer((socket) => { sockets.add(socket); socket.resume() })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    t.teardown(() => { for (const socket of sockets) socket.destroy(); server.close() })
    const { port } = server.address() as { port: number }
    const child = fork(FIXTURE, {
      execArgv: EXEC_ARGV,
      env: { ...process.env, DELIVERY: delivery, URL: `http://127.0.0.1:${port}/hook`, EVENTS: '1000' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
    const [report] = await Promise.race([
      once(child, 'message'),
      once(child, 'exit').then(([code, signal]) => { throw new Error(`the app died (code ${String(code)}, signal ${String(signal)})`) })
    ]) as [{ baseline: number, peak: number, stats: CollectorStats, truncated: number }]
    const growth = report.peak - report.baseline
    const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(0)} MB`
    t.ok(growth < MAX_GROWTH_BYTES, `RSS grew by ${mb(growth)} (baseline ${mb(report.baseline)}, peak ${mb(report.peak)}), under ${mb(MAX_GROWTH_BYTES)}`)
    const { stats } = report
    t.ok(report.truncated >= 1000 * 66, `every 1 MB input was cut to its cap and counted (${report.truncated})`)
    // 32 MiB of ~70 kB events is about 480 queued, plus one batch in flight: the rest is refused.
    t.ok(stats.dropped.queueFull > 300, `the events past the byte bound are counted queueFull (${stats.dropped.queueFull})`)
    t.equal(stats.accepted, 1100)
    t.equal(stats.accepted, stats.delivered + stats.queued + stats.inFlight + Object.values(stats.dropped).reduce((a, b) => a + b, 0), 'accepted = delivered + Σ dropped + queued + inFlight')
  })
}
