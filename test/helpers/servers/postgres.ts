import { chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import type { TapTest } from '../collectors.js'
import { freePort, haveBinary, ownServer, run, waitForExit, type OwnedServer } from './common.js'

const BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin'
export const POSTGRES_INSTALL = 'apt-get install -y postgresql'

/** A throwaway PostgreSQL on 127.0.0.1 in a temporary directory, stopped by PID at teardown. */
export interface PostgresServer extends OwnedServer {
  url: string
  port: number
  /** One query on a fresh connection. */
  query: <R extends pg.QueryResultRow = Record<string, unknown>>(sql: string) => Promise<R[]>
}

/** Starts PostgreSQL 15, or returns undefined after a skip (a failure under CI=true). */
export async function startPostgres (t: TapTest): Promise<PostgresServer | undefined> {
  if (!haveBinary(t, join(BIN, 'initdb'), POSTGRES_INSTALL)) return undefined
  const dir = mkdtempSync(join(tmpdir(), 'fa-pg-'))
  const data = join(dir, 'data')
  // initdb refuses to run as root: as root, run the server as the postgres user the package creates.
  const asUser = process.getuid?.() === 0 ? 'postgres' : undefined
  if (asUser !== undefined) {
    const { stdout } = await run('id', ['-u', asUser])
    const { stdout: gid } = await run('id', ['-g', asUser])
    chownSync(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  const exec = async (command: string, args: string[]): Promise<void> => {
    if (asUser === undefined) await run(command, args)
    else await run('runuser', ['-u', asUser, '--', command, ...args])
  }
  await exec(join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'])
  const port = await freePort()
  const start = async (): Promise<void> => {
    // fsync off: a test database need not survive a power cut, and fsync dominates COPY time on a busy disk.
    await exec(join(BIN, 'pg_ctl'), ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '30', '-o',
      `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`, 'start'])
  }
  const pid = (): number => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0])
  const shutdown = async (): Promise<void> => {
    let postmaster: number
    try {
      postmaster = pid()
    } catch {
      return
    }
    try {
      process.kill(postmaster, 'SIGINT')
    } catch {
      return
    }
    if (!await waitForExit(postmaster, 10_000)) process.kill(postmaster, 'SIGKILL')
  }
  try {
    await start()
  } catch (error) {
    const log = (() => { try { return readFileSync(join(dir, 'log'), 'utf8') } catch { return '' } })()
    rmSync(dir, { recursive: true, force: true })
    throw new Error(`PostgreSQL did not start: ${(error as Error).message}\n${log}`)
  }
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  // The postmaster is a daemon, not our child: SIGQUIT it at exit (nothing helps against SIGKILL, tap's timeout).
  const server: PostgresServer = {
    url,
    port,
    async query (sql) {
      const client = new pg.Client({ connectionString: url })
      await client.connect()
      try {
        return (await client.query(sql)).rows
      } finally {
        await client.end()
      }
    },
    ...ownServer(t, dir, start, shutdown, () => process.kill(pid(), 'SIGQUIT'))
  }
  return server
}
