// A stdout destination that fails or stalls, in both delivery modes: the app never crashes, its
// exit never hangs, every line is counted (delivered only once written; failed, queueFull or
// shutdown otherwise) and the failure is logged once. Each case runs the app in a child process
// (fixtures/stdout-app.ts): before these were handled, the failure killed or hung the process.
import { fork, execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { closeSync, constants, openSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t, { test } from 'tap'
import type { CollectorStats, DeliveryMode } from '../../lib/index.js'
import { assertBalanced, type TapTest } from '../helpers/collectors.js'

const FIXTURE = new URL('./fixtures/stdout-app.ts', import.meta.url)
// The TypeScript loader tap runs us with, for the child (not tap's coverage or process hooks).
const EXEC_ARGV = process.execArgv.filter((arg) => arg.includes('@tapjs/typescript') || arg === '--enable-source-maps')
// From the close to the exit: the app has nothing left to do, so this is only a loaded machine's slack.
const EXIT_DEADLINE_MS = 15_000
// From 'go' to the stats: a few thousand events and a close, for a child that may have hung.
const RUN_DEADLINE_MS = 60_000
const MODES: DeliveryMode[] = ['inline', 'worker']
// Ten child processes that load the TypeScript sources (and in worker mode compile them again in the thread).
t.setTimeout(300_000)

interface Outcome {
  stats: CollectorStats
  rss: number
  code: number | null
  signal: NodeJS.Signals | null
  /** From the stats message to the exit. */
  exitMs: number
  stderr: string
}

interface Run {
  env: Record<string, string | number>
  /** Extra descriptors for the child, from fd 4 on (3 is IPC). */
  fds?: number[]
  /** What to do to the child's stdout before its events start: by default it is read and discarded. */
  stdout?: 'read' | 'stall' | 'close'
}

async function runApp (t: TapTest, delivery: DeliveryMode, run: Run): Promise<Outcome> {
  const child = fork(FIXTURE, {
    execArgv: EXEC_ARGV,
    env: { ...process.env, DELIVERY: delivery, ...Object.fromEntries(Object.entries(run.env).map(([k, v]) => [k, String(v)])) },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc', ...(run.fds ?? [])]
  })
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const exited = once(child, 'exit')
  const [ready] = await Promise.race([once(child, 'message'), exited.then(() => { throw new Error(`the app exited before it was ready: ${stderr}`) })]) as [unknown]
  t.same(ready, { ready: true })
  const mode = run.stdout ?? 'read'
  if (mode === 'read') child.stdout?.resume()
  if (mode === 'close') child.stdout?.destroy()
  child.send('go')
  let hung: NodeJS.Timeout | undefined
  const [message] = await Promise.race([
    once(child, 'message'),
    exited.then(([code, signal]) => { throw new Error(`the app died (code ${String(code)}, signal ${String(signal)}): ${stderr.slice(-2000)}`) }),
    new Promise((_resolve, reject) => { hung = setTimeout(() => reject(new Error(`the app hung: no stats after ${RUN_DEADLINE_MS} ms`)), RUN_DEADLINE_MS) })
  ]).finally(() => clearTimeout(hung)) as [{ stats: CollectorStats, rss: number }]
  const at = Date.now()
  const timer = setTimeout(() => child.kill('SIGKILL'), EXIT_DEADLINE_MS)
  const [code, signal] = await exited as [number | null, NodeJS.Signals | null]
  clearTimeout(timer)
  return { ...message, code, signal, exitMs: Date.now() - at, stderr }
}

function assertExitedCleanly (t: TapTest, outcome: Outcome): void {
  t.same({ code: outcome.code, signal: outcome.signal }, { code: 0, signal: null }, `the process exited by itself, code 0, ${outcome.exitMs} ms after closing`)
}

/** The app's log lines (pino JSON on stderr) whose message contains `text`. */
function logLines (outcome: Outcome, text: string): Array<Record<string, unknown>> {
  return outcome.stderr.split('\n').filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => String(line.msg).includes(text))
}

for (const delivery of MODES) {
  test(`${delivery}: /dev/full (ENOSPC) counts every line failed, logs once, and the app exits`, async (t) => {
    const outcome = await runApp(t, delivery, { env: { DESTINATION: '/dev/full', EVENTS: 2000, MAX_QUEUE_BYTES: 32 << 20 } })
    assertExitedCleanly(t, outcome)
    assertBalanced(t, { stdout: outcome.stats })
    t.equal(outcome.stats.accepted, 2000)
    t.equal(outcome.stats.delivered, 0, 'nothing counted delivered: /dev/full took no byte')
    t.equal(outcome.stats.dropped.failed, 2000, 'every line counted failed', { stats: outcome.stats })
    const logged = logLines(outcome, 'refused a write')
    t.equal(logged.length, 1, 'one log line for the whole outage (rate-limited)')
    t.match(logged[0], { code: 'ENOSPC' })
  })

  test(`${delivery}: a read-only descriptor (EBADF) counts every line failed, and the app exits`, async (t) => {
    const file = join(t.testdir(), 'read-only')
    writeFileSync(file, '')
    const fd = openSync(file, 'r')
    t.teardown(() => closeSync(fd))
    const outcome = await runApp(t, delivery, { env: { DESTINATION: 4, EVENTS: 500, MAX_QUEUE_BYTES: 32 << 20 }, fds: [fd] })
    assertExitedCleanly(t, outcome)
    assertBalanced(t, { stdout: outcome.stats })
    t.equal(outcome.stats.delivered, 0)
    t.equal(outcome.stats.dropped.failed, 500)
    const logged = logLines(outcome, 'cannot be written')
    t.equal(logged.length, 1, 'logged once')
    t.match(logged[0], { code: 'EBADF' })
  })

  test(`${delivery}: stdout whose reader has gone (EPIPE) counts every line failed instead of delivered`, async (t) => {
    const outcome = await runApp(t, delivery, { env: { DESTINATION: 1, EVENTS: 500, MAX_QUEUE_BYTES: 32 << 20 }, stdout: 'close' })
    assertExitedCleanly(t, outcome)
    assertBalanced(t, { stdout: outcome.stats })
    t.equal(outcome.stats.delivered, 0, 'no line counted delivered to a closed pipe')
    t.equal(outcome.stats.dropped.failed, 500)
    t.match(logLines(outcome, 'cannot be written'), [{ code: 'EPIPE' }], 'logged once, with its code')
  })

  test(`${delivery}: stdout piped to a reader that never reads: bounded in bytes, the excess counted queueFull, only written lines delivered, and the exit does not hang`, async (t) => {
    const outcome = await runApp(t, delivery, {
      env: { DESTINATION: 1, EVENTS: 20_000, VALUE_BYTES: 1000, MAX_QUEUE_BYTES: 1 << 20, SHUTDOWN_TIMEOUT_MS: 300 },
      stdout: 'stall'
    })
    assertExitedCleanly(t, outcome)
    assertBalanced(t, { stdout: outcome.stats })
    const { delivered, dropped } = outcome.stats
    t.ok(dropped.queueFull > 15_000, `most lines refused at the 1 MiB bound (queueFull ${dropped.queueFull})`)
    // A socket pair holds a few hundred KiB at most; each line is over 1 KiB.
    t.ok(delivered < 1500, `only lines the pipe took count delivered (${delivered})`)
    t.ok(dropped.shutdown > 0, `what still waited at the shutdown deadline is counted shutdown (${dropped.shutdown})`)
  })

  test(`${delivery}: a FIFO nobody reads: same bound, and EAGAIN never blocks a thread`, async (t) => {
    const fifo = join(t.testdir(), 'events.fifo')
    execFileSync('mkfifo', [fifo])
    // A reader that never reads: the writer can open the FIFO, and its buffer (64 KiB) fills.
    const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK)
    t.teardown(() => closeSync(reader))
    const outcome = await runApp(t, delivery, {
      env: { DESTINATION: fifo, EVENTS: 20_000, VALUE_BYTES: 1000, MAX_QUEUE_BYTES: 1 << 20, SHUTDOWN_TIMEOUT_MS: 300 }
    })
    assertExitedCleanly(t, outcome)
    assertBalanced(t, { stdout: outcome.stats })
    const { delivered, dropped } = outcome.stats
    t.ok(dropped.queueFull > 15_000, `most lines refused at the 1 MiB bound (queueFull ${dropped.queueFull})`)
    t.ok(delivered <= 64, `only lines the 64 KiB FIFO took count delivered (${delivered})`)
    t.ok(dropped.shutdown > 0, `counted shutdown at the deadline (${dropped.shutdown})`)
  })
}
