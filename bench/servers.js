// Throwaway database servers for the benchmarks (temporary directories, 127.0.0.1, stopped by PID
// through the cleanups the caller runs). Undefined when the server is not installed.
import { execFileSync, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { sleep } from './common.js'

const PG_BIN = '/usr/lib/postgresql/15/bin'
const CH_BIN = '/usr/sbin/clickhouse-server'
const CLK_TCK = 100

/** CPU seconds of a process and its direct children (PostgreSQL's backends are the postmaster's children), at 10 ms resolution. */
export function treeCpuSeconds (pid) {
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

export async function freePort () {
  const server = createServer()
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** PostgreSQL 15 with durable settings (fsync on): the figures are a real server's. */
export async function startPostgres (cleanups, settings = []) {
  if (!existsSync(join(PG_BIN, 'initdb'))) return undefined
  const dir = mkdtempSync(join(tmpdir(), 'fa-bench-pg-'))
  const asRoot = process.getuid() === 0
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })))
  const exec = (cmd, args) => asRoot ? execFileSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { stdio: 'ignore' }) : execFileSync(cmd, args, { stdio: 'ignore' })
  exec(join(PG_BIN, 'initdb'), ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'])
  const port = await freePort()
  exec(join(PG_BIN, 'pg_ctl'), ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-t', '30', '-o', [`-c listen_addresses=127.0.0.1 -p ${port} -k ${dir}`, ...settings].join(' '), 'start'])
  const pid = Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0])
  cleanups.push(async () => {
    try { process.kill(pid, 'SIGINT') } catch {}
    for (let i = 0; i < 200; i++) { try { process.kill(pid, 0) } catch { break } await sleep(25) }
    rmSync(dir, { recursive: true, force: true })
  })
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  const query = async (sql) => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      return (await client.query(sql)).rows
    } finally { await client.end() }
  }
  const count = async (table) => Number((await query(`SELECT count(*) AS n FROM ${table}`))[0].n)
  return { pid, url, query, count }
}

export async function startClickHouse (cleanups) {
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
  const query = async (sql) => (await (await fetch(`${url}/?query=${encodeURIComponent(sql)}`)).text())
  const count = async (table) => Number(await query(`SELECT count() FROM ${table}`))
  return { pid: child.pid, url, query, count }
}
