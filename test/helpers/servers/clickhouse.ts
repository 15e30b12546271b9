import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import type { TapTest } from '../collectors.js'
import { freePort, haveBinary, ownServer, waitForExit, type OwnedServer } from './common.js'

const BIN = process.env.CLICKHOUSE_SERVER_BIN ?? '/usr/sbin/clickhouse-server'
export const CLICKHOUSE_INSTALL = 'apt-get install -y clickhouse-server'
export const CLICKHOUSE_USER = 'analytics'
export const CLICKHOUSE_PASSWORD = 'ch-test-password-9f3a'

/** A throwaway ClickHouse on 127.0.0.1 in a temporary directory, stopped by PID at teardown. */
export interface ClickHouseServer extends OwnedServer {
  url: string
  version: string
  /** Runs one statement as the test user; JSONEachRow rows for a SELECT. */
  query: <R = Record<string, unknown>>(sql: string) => Promise<R[]>
}

function config (dir: string, httpPort: number, tcpPort: number): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>67108864</uncompressed_cache_size>
  <mlock_executable>false</mlock_executable>
</yandex>
`
}

const USERS = `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>1000000000</max_memory_usage></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default>
    <${CLICKHOUSE_USER}><password>${CLICKHOUSE_PASSWORD}</password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></${CLICKHOUSE_USER}>
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`

/** Starts clickhouse-server, or returns undefined after a skip (a failure under CI=true). */
export async function startClickHouse (t: TapTest): Promise<ClickHouseServer | undefined> {
  if (!haveBinary(t, BIN, CLICKHOUSE_INSTALL)) return undefined
  const dir = mkdtempSync(join(tmpdir(), 'fa-ch-'))
  for (const sub of ['data', 'tmp', 'user_files', 'format_schemas']) mkdirSync(join(dir, sub))
  const [httpPort, tcpPort] = [await freePort(), await freePort()]
  writeFileSync(join(dir, 'config.xml'), config(dir, httpPort, tcpPort))
  writeFileSync(join(dir, 'users.xml'), USERS)
  const url = `http://127.0.0.1:${httpPort}`
  const auth = `Basic ${Buffer.from(`${CLICKHOUSE_USER}:${CLICKHOUSE_PASSWORD}`).toString('base64')}`

  const query = async <R>(sql: string): Promise<R[]> => {
    const format = /^(?:\s*--[^\n]*\n)*\s*(SELECT|WITH)\b/i.test(sql) ? '\nFORMAT JSONEachRow' : ''
    const response = await request(`${url}/?date_time_input_format=best_effort`, { method: 'POST', body: sql + format, headers: { authorization: auth } })
    const text = await response.body.text()
    if (response.statusCode !== 200) throw new Error(`ClickHouse ${response.statusCode}: ${text}`)
    return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as R)
  }

  let pid = 0
  const start = async (): Promise<void> => {
    const child = spawn(BIN, [`--config-file=${join(dir, 'config.xml')}`], { stdio: 'ignore', detached: false })
    pid = child.pid as number
    child.unref()
    // About half a second on 18.16; bounded so a broken install fails instead of hanging.
    const end = Date.now() + 30_000
    while (Date.now() < end) {
      try {
        const response = await request(`${url}/ping`)
        await response.body.text()
        if (response.statusCode === 200) return
      } catch {}
      if (child.exitCode !== null) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    const log = (() => { try { return readFileSync(join(dir, 'error.log'), 'utf8').slice(-2000) } catch { return '' } })()
    throw new Error(`clickhouse-server did not answer on ${url}: ${log}`)
  }
  const shutdown = async (): Promise<void> => {
    if (pid === 0) return
    try {
      process.kill(pid, 'SIGTERM')
    } catch {
      return
    }
    if (!await waitForExit(pid, 15_000)) process.kill(pid, 'SIGKILL')
    pid = 0
  }
  try {
    await start()
  } catch (error) {
    await shutdown()
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  const [{ version }] = await query<{ version: string }>('SELECT version() AS version')
  const server: ClickHouseServer = {
    url,
    version,
    query,
    ...ownServer(t, dir, start, shutdown, () => { if (pid !== 0) process.kill(pid, 'SIGKILL') })
  }
  return server
}
