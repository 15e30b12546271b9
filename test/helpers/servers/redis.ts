import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TapTest } from '../collectors.js'

export const REDIS_INSTALL_HINT = 'sudo apt-get install -y redis-server'

/** A redis-server of the tests' own: loopback only, no persistence, in a temporary directory. */
export interface RedisServer {
  readonly port: number
  readonly url: string
  readonly pid: number | undefined
  /** Stops the server (SIGTERM to its PID) and waits for it to exit. */
  stop: () => Promise<void>
  /** Starts it again on the same port (after stop). */
  restart: () => Promise<void>
  /** SIGSTOP / SIGCONT: a server that keeps its connections open and answers nothing. */
  freeze: () => void
  thaw: () => void
}

function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port')))
    })
  })
}

/** Polls until a PING gets PONG; bounded by `timeoutMs`. */
async function waitReady (port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`)
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' })
      socket.setTimeout(500)
      socket.once('connect', () => socket.write('PING\r\n'))
      socket.once('data', (data) => { socket.destroy(); resolve(data.toString().startsWith('+PONG')) })
      socket.once('error', () => { socket.destroy(); resolve(false) })
      socket.once('timeout', () => { socket.destroy(); resolve(false) })
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`redis-server did not answer on port ${port} within ${timeoutMs} ms`)
}

function launch (port: number, dir: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-server', [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning'
    ], { stdio: 'ignore' })
    child.once('error', reject)
    child.once('spawn', () => resolve(child))
  })
}

function exited (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/**
 * Starts redis-server for one test file and stops it by PID in teardown. When it cannot start:
 * under CI=true the test fails; elsewhere it is skipped, loudly, with the install command.
 */
export async function startRedis (t: TapTest): Promise<RedisServer | undefined> {
  const dir = mkdtempSync(join(tmpdir(), 'fa-redis-'))
  let child: ChildProcess
  let port: number
  try {
    port = await freePort()
    child = await launch(port, dir)
    await waitReady(port, child, 10_000)
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    const message = `redis-server could not start (${error instanceof Error ? error.message : String(error)}); install it: ${REDIS_INSTALL_HINT}`
    if (process.env.CI === 'true') {
      t.fail(message)
    } else {
      t.comment(`SKIPPING the Redis tests: ${message}`)
      t.skip(message, async () => {})
    }
    return undefined
  }
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGCONT')
      child.kill('SIGTERM')
      await exited(child)
    }
  }
  t.teardown(async () => {
    await stop()
    rmSync(dir, { recursive: true, force: true })
  })
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get pid () { return child.pid },
    stop,
    async restart () {
      await stop()
      child = await launch(port, dir)
      await waitReady(port, child, 10_000)
    },
    freeze () { if (child.pid !== undefined) process.kill(child.pid, 'SIGSTOP') },
    thaw () { if (child.pid !== undefined) process.kill(child.pid, 'SIGCONT') }
  }
}
