import { test } from 'tap'
import { createServer, type Socket } from 'node:net'
import { createEvent, EventType } from '../../lib/event.js'
import { totalDropped } from '../../lib/collector.js'
import { postgresCollector } from '../../lib/collectors/postgres.js'
import { clickhouseCollector } from '../../lib/collectors/clickhouse.js'
import { logCapture, type TapTest } from '../helpers/collectors.js'

/** A TCP server on 127.0.0.1 that accepts connections and never answers: a database that hangs. */
async function silentServer (t: TapTest): Promise<number> {
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('error', () => {})
    socket.resume()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(async () => {
    for (const socket of sockets) socket.destroy()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return (server.address() as { port: number }).port
}

for (const kind of ['postgres', 'clickhouse'] as const) {
  test(`${kind}: a database that never answers cannot hold close() past its deadline; what is left counts as shutdown`, async (t) => {
    const port = await silentServer(t)
    const logs = logCapture()
    const options = { flushIntervalMs: 10, timeoutMs: 60_000, maxBatchSize: 5 }
    const collector = kind === 'postgres'
      ? postgresCollector({ connectionString: `postgres://u:pw-never-logged@127.0.0.1:${port}/db`, ...options })
      : clickhouseCollector({ url: `http://127.0.0.1:${port}`, password: 'pw-never-logged', ...options })
    await collector.start(AbortSignal.timeout(5000), { log: logs.log })
    for (let i = 0; i < 12; i++) {
      const event = createEvent(EventType.Custom, new Date())
      event.eventName = `e${i}`
      collector.collect(event)
    }
    await collector.flush(AbortSignal.timeout(200))
    await collector.close(AbortSignal.timeout(300))
    const report = collector.stats()
    t.equal(report.delivered + totalDropped(report.dropped), 12, 'accepted = delivered + Σ dropped')
    t.equal(report.dropped.shutdown, 12, 'queued and in-flight events are counted at the deadline')
    t.equal(report.queued + report.inFlight, 0)
    t.notOk(logs.text().includes('pw-never-logged'), 'the password is never logged')
  })
}
