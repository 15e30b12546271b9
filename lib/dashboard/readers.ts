import { errorText } from '../util.js'
import { openDuckDB, type DuckDBInstanceLike, type DuckDBConnectionLike } from '../collectors/duckdb/driver.js'
import { quoteTable } from '../collectors/duckdb/table.js'
import type { WarehouseSource } from '../collectors/warehouse/source.js'
import { dialectFor, type Dialect, type Query } from './sql.js'

export type Row = Record<string, unknown>

/** Runs the dashboard's queries on one store: read-only, each within the timeout. */
export interface Reader {
  readonly dialect: Dialect
  query (query: Query): Promise<Row[]>
  close (): Promise<void>
}

/**
 * PostgreSQL's memory for one sort or hash of a dashboard query: a month of a busy site groups
 * hundreds of thousands of visits (about 40 MB of hash table for a million events), and the default
 * 4 MB makes that a disk sort. Taken per query, by at most the dashboard pool's two connections.
 */
export const DASHBOARD_PG_WORK_MEM = '64MB'

/** A query that ran past its time; the API answers 504. */
export class QueryTimeout extends Error {}

/** The part of a `pg.Pool` the dashboard uses (with bind parameters, unlike the collector's COPY). */
export interface DashboardPgPool {
  connect (): Promise<{
    query (text: string, values?: unknown[]): Promise<{ rows: Row[] }>
    release (destroy?: boolean | Error): void
  }>
  end? (): Promise<void>
}

/** Opens a reader on the collector's store. The driver is loaded here, at the dashboard's start. */
export async function openReader (source: WarehouseSource, timeoutMs: number): Promise<Reader> {
  switch (source.kind) {
    case 'duckdb': return await DuckDBReader.open(source, timeoutMs)
    case 'postgres': return await PostgresReader.open(source, timeoutMs)
    case 'clickhouse': return await ClickHouseReader.open(source, timeoutMs)
  }
}

class DuckDBReader implements Reader {
  readonly dialect: Dialect
  /** The instance this reader opened itself (closed with it); undefined when it reads through the collector's. */
  readonly #instance: DuckDBInstanceLike | undefined
  readonly #connection: DuckDBConnectionLike
  readonly #timeoutMs: number
  /** One connection runs one query at a time: the next waits its turn. */
  #turn: Promise<unknown> = Promise.resolve()

  private constructor (dialect: Dialect, instance: DuckDBInstanceLike | undefined, connection: DuckDBConnectionLike, timeoutMs: number) {
    this.dialect = dialect
    this.#instance = instance
    this.#connection = connection
    this.#timeoutMs = timeoutMs
  }

  static async open (source: Extract<WarehouseSource, { kind: 'duckdb' }>, timeoutMs: number): Promise<DuckDBReader> {
    // The collector's own database when it has started (the only way into ':memory:'), else the
    // process's cached instance of the file: either way one database, one owner of the file.
    const shared = source.instance()
    const instance = shared ?? await openDuckDB(source.path, 'analyticsDashboard')
    const connection = await instance.connect()
    return new DuckDBReader(dialectFor('duckdb', quoteTable(source.table)), shared === undefined ? instance : undefined, connection, timeoutMs)
  }

  query (query: Query): Promise<Row[]> {
    const run = this.#turn.then(async () => {
      let timedOut = false
      const timer = setTimeout(() => {
        timedOut = true
        this.#connection.interrupt()
      }, this.#timeoutMs)
      try {
        const reader = await this.#connection.runAndReadAll(query.sql, query.values)
        return reader.getRowObjectsJS()
      } catch (error) {
        if (timedOut) throw new QueryTimeout(`the query ran past ${this.#timeoutMs} ms`)
        throw error
      } finally {
        clearTimeout(timer)
      }
    })
    this.#turn = run.catch(() => {})
    return run
  }

  async close (): Promise<void> {
    await this.#turn
    this.#connection.closeSync()
    // Only an instance this reader opened itself; the collector closes its own.
    this.#instance?.closeSync()
  }
}

class PostgresReader implements Reader {
  readonly dialect: Dialect
  readonly #pool: DashboardPgPool
  readonly #owned: boolean
  readonly #timeoutMs: number

  private constructor (table: string, pool: DashboardPgPool, owned: boolean, timeoutMs: number) {
    this.dialect = dialectFor('postgres', table)
    this.#pool = pool
    this.#owned = owned
    this.#timeoutMs = timeoutMs
  }

  static async open (source: Extract<WarehouseSource, { kind: 'postgres' }>, timeoutMs: number): Promise<PostgresReader> {
    const table = source.table.split('.').map((part) => `"${part}"`).join('.')
    if (source.pool !== undefined) return new PostgresReader(table, source.pool as unknown as DashboardPgPool, false, timeoutMs)
    let pg: { Pool: new (config: object) => DashboardPgPool }
    try {
      const module = await import('pg') as { default?: typeof pg } & typeof pg
      pg = module.default ?? module
    } catch (error) {
      throw new Error(`analyticsDashboard needs the optional peer dependency pg (npm install pg): ${errorText(error)}`)
    }
    // Its own two connections: a dashboard query never waits behind the collector's COPY, nor holds it up.
    const pool = new pg.Pool({
      connectionString: source.connectionString,
      max: 2,
      connectionTimeoutMillis: timeoutMs,
      idleTimeoutMillis: 30_000,
      application_name: 'fastify-analytics dashboard'
    })
    ;(pool as unknown as { on: (event: string, listener: () => void) => void }).on('error', () => {
      // An idle connection the server closed (a restart): the next query reconnects.
    })
    return new PostgresReader(table, pool, true, timeoutMs)
  }

  async query (query: Query): Promise<Row[]> {
    const client = await this.#pool.connect()
    let broken = false
    try {
      // Read-only, and the server cancels a statement past the timeout (SQLSTATE 57014). The
      // groupings of a month of events outgrow the default 4 MB work_mem and spill to disk; JIT
      // compiling costs ~50 ms a query and these are one-off queries it does not pay back on.
      await client.query('BEGIN TRANSACTION READ ONLY')
      await client.query(`SET LOCAL statement_timeout = ${Math.ceil(this.#timeoutMs)}; SET LOCAL work_mem = '${DASHBOARD_PG_WORK_MEM}'; SET LOCAL jit = off`)
      const result = await client.query(query.sql, query.values)
      await client.query('COMMIT')
      return result.rows
    } catch (error) {
      broken = true
      if ((error as { code?: unknown }).code === '57014') throw new QueryTimeout(`the query ran past ${this.#timeoutMs} ms`)
      throw error
    } finally {
      // A connection left inside a failed transaction is destroyed rather than handed to the next query.
      client.release(broken)
    }
  }

  async close (): Promise<void> {
    if (this.#owned) await this.#pool.end?.()
  }
}

interface ClickHouseClient {
  query (params: { query: string, format: 'JSONEachRow', abort_signal?: AbortSignal, clickhouse_settings?: Record<string, unknown> }): Promise<{ json: <T>() => Promise<T[]> }>
  close (): Promise<void>
}

class ClickHouseReader implements Reader {
  readonly dialect: Dialect
  readonly #client: ClickHouseClient
  readonly #timeoutMs: number

  private constructor (table: string, client: ClickHouseClient, timeoutMs: number) {
    this.dialect = dialectFor('clickhouse', table)
    this.#client = client
    this.#timeoutMs = timeoutMs
  }

  static async open (source: Extract<WarehouseSource, { kind: 'clickhouse' }>, timeoutMs: number): Promise<ClickHouseReader> {
    let driver: { createClient: (config: object) => ClickHouseClient, ClickHouseLogLevel: { OFF: unknown } }
    try {
      driver = await import('@clickhouse/client') as unknown as typeof driver
    } catch (error) {
      throw new Error(`analyticsDashboard needs the optional peer dependency @clickhouse/client (npm install @clickhouse/client): ${errorText(error)}`)
    }
    const client = driver.createClient({
      url: source.url,
      username: source.username,
      password: source.password,
      database: source.database,
      request_timeout: timeoutMs,
      max_open_connections: 2,
      log: { level: driver.ClickHouseLogLevel.OFF }
    })
    return new ClickHouseReader(`${source.database}.${source.table}`, client, timeoutMs)
  }

  async query (query: Query): Promise<Row[]> {
    const signal = AbortSignal.timeout(this.#timeoutMs)
    try {
      const result = await this.#client.query({
        query: query.sql,
        format: 'JSONEachRow',
        abort_signal: signal,
        // The server stops a query past the timeout too, so an abandoned one does not run on.
        clickhouse_settings: { max_execution_time: Math.max(1, Math.ceil(this.#timeoutMs / 1000)) }
      })
      return await result.json<Row>()
    } catch (error) {
      if (signal.aborted || /timeout|TIMEOUT_EXCEEDED|Code: 159/i.test(errorText(error))) throw new QueryTimeout(`the query ran past ${this.#timeoutMs} ms`)
      throw error
    }
  }

  async close (): Promise<void> {
    await this.#client.close()
  }
}
