import { execFile } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { promisify } from 'node:util'
import type { TapTest } from '../collectors.js'

export const run = promisify(execFile)

/** A free TCP port on 127.0.0.1 (the OS picks it; the server binds it a moment later). */
export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}

/**
 * Whether a database binary is here. Under CI the database tests must run, so a missing one fails
 * the test; elsewhere it is a loud skip that names the package to install.
 */
export function haveBinary (t: TapTest, binary: string, install: string): boolean {
  if (existsSync(binary)) return true
  const message = `${binary} is missing: install it with \`${install}\``
  if (process.env.CI === 'true') t.fail(message)
  else {
    process.stderr.write(`\n*** SKIPPED: ${message}\n\n`)
    t.plan(0, message)
  }
  return false
}

/** Waits for a process to exit (signal 0 probes it), at most `ms`. */
export async function waitForExit (pid: number, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    try {
      process.kill(pid, 0)
    } catch {
      return true
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  return false
}

/** What every server the tests own offers beside its client details. */
export interface OwnedServer {
  /** Stops the server (cleanly), waits `downMs`, starts it again on the same port and data. */
  restart: (downMs?: number) => Promise<void>
  /** Stops it and removes its directory; also run at teardown. Idempotent. */
  stop: () => Promise<void>
}

/**
 * The lifecycle shared by the PostgreSQL and ClickHouse helpers: restart, stop once, remove the
 * temporary directory, stop at teardown, and `kill` on process exit so a test process that dies
 * before its teardown (an uncaught error) does not leave the server running.
 */
export function ownServer (t: TapTest, dir: string, start: () => Promise<void>, shutdown: () => Promise<void>, kill: () => void): OwnedServer {
  let stopped = false
  const onExit = (): void => { try { kill() } catch {} }
  process.once('exit', onExit)
  const owned: OwnedServer = {
    async restart (downMs = 0) {
      await shutdown()
      if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs))
      await start()
    },
    async stop () {
      if (stopped) return
      stopped = true
      process.removeListener('exit', onExit)
      await shutdown()
      rmSync(dir, { recursive: true, force: true })
    }
  }
  t.teardown(() => owned.stop())
  return owned
}
