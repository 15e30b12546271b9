import { Readable, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { DeliveryTransport, HttpResponse, OutgoingRequest } from '../../batch/types.js'
import { errorText, noop } from '../../util.js'
import { TransportError } from '../../http/classify.js'
import type { RateLimitedLog } from '../../log.js'
import { ANY_TIME, MissingTableError, refused, refusedRows, retryable, STORED, tableCheckAtStart, withSignal } from '../warehouse/common.js'
import { storeIsolatingRefused } from '../warehouse/split.js'
import type { PostgresPool, PostgresPoolClient } from './options.js'
import { POSTGRES_COLUMNS, postgresTableDDL, quote } from './table.js'

type CopyFrom = (sql: string) => Writable

// SQLSTATE classes worth another attempt (PostgreSQL docs, Appendix A): connection exception,
// transaction rollback (serialization, deadlock), insufficient resources (disk full, out of
// memory, too many connections), operator intervention (shutdown, restart), system error (I/O).
const RETRY_CLASSES = new Set(['08', '40', '53', '57', '58'])
// Lock not available, object in use: another session's DDL or VACUUM FULL; it passes.
const RETRY_CODES = new Set(['55P03', '55006'])
// Undefined table, undefined schema: the table was never created.
const MISSING_TABLE = new Set(['42P01', '3F000'])
// Data exception (22: a value out of range, bad text for its type) and integrity constraint
// violation (23: NOT NULL, CHECK, a foreign key): the rows are at fault, so a split isolates them.
const DATA_CLASSES = new Set(['22', '23'])
// Undefined column: the table predates columns this release writes.
const MISSING_COLUMN = '42703'
// Two instances creating the table at once: the loser's CREATE … IF NOT EXISTS can still collide.
const ALREADY_CREATED = new Set(['42P07', '23505'])

const BATCH_TABLE = 'fastify_analytics_batch'
const COLUMN_LIST = POSTGRES_COLUMNS.join(', ')

interface Settings {
  connectionString: string | undefined
  pool: PostgresPool | undefined
  table: string
  createTable: boolean
}

/**
 * Stores one batch per attempt: COPY into a temporary table, then `INSERT … SELECT … ON CONFLICT
 * (id) DO NOTHING` and COMMIT, in one transaction. A retry after a commit whose acknowledgement was
 * lost (the connection died after COMMIT was sent) therefore adds no row twice. COPY and INSERT …
 * SELECT carry no bind parameters, so PostgreSQL's 65 535-parameter limit never bounds a batch.
 */
export class PostgresTransport implements DeliveryTransport {
  readonly #settings: Settings
  readonly #log: RateLimitedLog
  readonly #table: string
  /** Set by the collector from the engine's resolved options, before `open`. */
  limits = { concurrency: 1, timeoutMs: 10_000 }
  // timestamptz holds more than a Date: the server's refusal of a row is isolated by a split.
  readonly timeRange = ANY_TIME
  #pool: PostgresPool | undefined
  #owned = false
  #copyFrom: CopyFrom | undefined
  /** Connections that already have their session's temporary batch table. */
  readonly #ready = new WeakSet<PostgresPoolClient>()
  readonly #onPoolError = (error: Error): void => {
    // pg emits this for an idle pooled connection the server dropped (a restart): the next
    // attempt reconnects. Without a listener the 'error' event would crash the process.
    this.#log.warn('pool', { error: errorText(error) }, 'postgres: an idle connection was closed by the server')
  }

  constructor (settings: Settings, log: RateLimitedLog) {
    this.#settings = settings
    this.#log = log
    this.#table = settings.table.split('.').map(quote).join('.')
  }

  /** Loads the optional drivers, makes the pool and, with `createTable`, the table. */
  async open (signal: AbortSignal): Promise<void> {
    if (this.#copyFrom !== undefined) return
    const copy = await importDriver<{ from: CopyFrom }>('pg-copy-streams')
    let pool = this.#settings.pool
    if (pool === undefined) {
      const pg = await importDriver<{ Pool: new (config: object) => PostgresPool }>('pg')
      pool = new pg.Pool({
        connectionString: this.#settings.connectionString,
        max: this.limits.concurrency,
        connectionTimeoutMillis: this.limits.timeoutMs,
        idleTimeoutMillis: 30_000,
        application_name: 'fastify-analytics'
      })
      this.#owned = true
    }
    pool.on('error', this.#onPoolError)
    this.#pool = pool
    this.#copyFrom = copy.from
    if (this.#settings.createTable) {
      await this.#prepareTable(signal)
    } else {
      // Only a check: a missing table fails start with the fix; a server still down at start delays
      // it by at most TABLE_CHECK_WAIT_MS (the engine retries the batches, the first reports why).
      await tableCheckAtStart(this.#prepareTable(signal))
    }
  }

  /**
   * With `createTable`, runs schema/postgres.sql when the table or one of its columns is missing:
   * it creates the table, or adds the columns a table made by an earlier release lacks. A table
   * that has them all is left alone, so no start takes ALTER TABLE's exclusive lock for nothing.
   * Without `createTable`, a table that lacks columns is logged with the fix, and no table at all
   * is a MissingTableError (every batch would be refused).
   */
  async #prepareTable (signal: AbortSignal): Promise<void> {
    const client = await withSignal((this.#pool as PostgresPool).connect(), signal)
    let present: Set<string>
    try {
      // to_regclass resolves the name as a query would (search_path) and is NULL for no table.
      const result = await withSignal(client.query(`SELECT attname FROM pg_attribute WHERE attrelid = to_regclass('${this.#table.replaceAll("'", "''")}') AND attnum > 0 AND NOT attisdropped`), signal) as { rows: Array<{ attname: string }> }
      present = new Set(result.rows.map((row) => row.attname))
      const missing = POSTGRES_COLUMNS.filter((column) => !present.has(column))
      if (missing.length > 0 && this.#settings.createTable) {
        await withSignal(client.query(postgresTableDDL(this.#settings.table)), signal)
      } else if (missing.length > 0 && present.size > 0) {
        this.#log.warn('columns', { missing }, `postgres: table ${this.#settings.table} lacks columns this release writes, so every batch will be refused: set createTable: true to add them, or run schema/postgres.sql`)
      }
      client.release()
    } catch (error) {
      client.release(true)
      if (ALREADY_CREATED.has(sqlState(error) ?? '')) return
      throw new Error(`${this.#settings.createTable ? 'creating' : 'reading'} table ${this.#settings.table} failed: ${errorText(error)}`)
    }
    if (present.size === 0 && !this.#settings.createTable) {
      throw new MissingTableError(`postgres: table ${this.#settings.table} does not exist, so every batch would be refused: ` +
        'create it with schema/postgres.sql, or set createTable: true')
    }
  }

  /** Stores a batch; when PostgreSQL refuses its data, stores it in pieces so only the refused rows are lost. */
  async send (request: OutgoingRequest, signal: AbortSignal): Promise<HttpResponse> {
    const body = request.body
    if (typeof body !== 'string') return await this.#attempt(body, signal)
    return await storeIsolatingRefused(body, (piece) => this.#attempt(piece, signal))
  }

  /** One transaction, with its own deadline. */
  #attempt (body: string | Uint8Array, signal: AbortSignal): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      let over = false
      let client: PostgresPoolClient | undefined
      const finish = (error: unknown, response?: HttpResponse): void => {
        if (over) return
        over = true
        clearTimeout(timer)
        signal.removeEventListener('abort', onAbort)
        // A connection whose attempt failed may sit in an aborted transaction or a half-sent COPY:
        // destroy it rather than hand it to the next batch.
        if (client !== undefined) {
          client.removeListener('error', onClientError)
          client.release(error === undefined ? undefined : true)
        }
        if (error === undefined) resolve(response as HttpResponse)
        else if (error instanceof TransportError) reject(error)
        else {
          const verdict = classify(error, this.#settings.table)
          if (verdict instanceof TransportError) reject(verdict)
          else resolve(verdict)
        }
      }
      const timer = setTimeout(() => finish(new TransportError('timeout', 'ATTEMPT_TIMEOUT', 'attempt deadline reached')), this.limits.timeoutMs)
      timer.unref()
      const onAbort = (): void => finish(new TransportError('aborted', 'ABORT_ERR', 'attempt aborted'))
      // A checked-out connection the server drops between two queries emits 'error' (a restart
      // sends 57P01): unhandled, that event would crash the process. The attempt fails with it.
      const onClientError = (error: Error): void => finish(error)
      if (signal.aborted) {
        onAbort()
        return
      }
      signal.addEventListener('abort', onAbort, { once: true })
      ;(this.#pool as PostgresPool).connect().then(async (connected) => {
        if (over) {
          connected.release(true)
          return
        }
        client = connected
        connected.on('error', onClientError)
        await this.#store(connected, body)
        finish(undefined, STORED)
      }).catch((error: unknown) => finish(error))
    })
  }

  async #store (client: PostgresPoolClient, body: string | Uint8Array): Promise<void> {
    if (!this.#ready.has(client)) {
      // Once per connection, not per batch: a temporary table per batch would churn the catalog.
      await client.query(`CREATE TEMP TABLE IF NOT EXISTS ${BATCH_TABLE} (LIKE ${this.#table} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`)
      this.#ready.add(client)
    }
    await client.query('BEGIN')
    const copy = (client as unknown as { query: (stream: Writable) => Writable }).query(
      (this.#copyFrom as CopyFrom)(`COPY ${BATCH_TABLE} (${COLUMN_LIST}) FROM STDIN`))
    await pipeline(Readable.from([body]), copy)
    await client.query(`INSERT INTO ${this.#table} (${COLUMN_LIST}) SELECT ${COLUMN_LIST} FROM ${BATCH_TABLE} ON CONFLICT (id) DO NOTHING`)
    await client.query('COMMIT')
  }

  async close (signal: AbortSignal): Promise<void> {
    const pool = this.#pool
    if (pool === undefined) return
    if (!this.#owned) {
      // The app's pool: its errors are the app's again.
      pool.removeListener('error', this.#onPoolError)
      return
    }
    // end() waits for checked-out connections; attempts still running were aborted by the engine.
    // The listener stays on our own pool: a connection end() has not closed yet (still checked out,
    // or past the deadline) that the server then terminates (a restart) would otherwise emit an
    // unhandled 'error' and crash the app after its analytics closed.
    await withSignal((pool as unknown as { end: () => Promise<void> }).end(), signal).catch(noop)
  }
}

function sqlState (error: unknown): string | undefined {
  // pg's DatabaseError carries the server's severity and SQLSTATE; socket errors carry neither.
  if (typeof error !== 'object' || error === null || typeof (error as { severity?: unknown }).severity !== 'string') return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/** A server error is retried or refused by its SQLSTATE; anything else (a socket) is retried. */
function classify (error: unknown, table: string): TransportError | HttpResponse {
  const message = errorText(error)
  const code = sqlState(error)
  if (code === undefined) {
    const socketCode = (error as { code?: unknown } | null)?.code
    return retryable(typeof socketCode === 'string' ? socketCode : 'CONNECTION', message)
  }
  if (RETRY_CLASSES.has(code.slice(0, 2)) || RETRY_CODES.has(code)) return retryable(code, message)
  if (MISSING_TABLE.has(code)) {
    return refused(`${code}: ${message}: create table ${table} (schema/postgres.sql) or set createTable: true`)
  }
  if (code === MISSING_COLUMN) {
    return refused(`${code}: ${message}: the table predates this release's columns: set createTable: true (adds them) or run schema/postgres.sql`)
  }
  if (DATA_CLASSES.has(code.slice(0, 2))) return refusedRows(`${code}: ${message}`)
  return refused(`${code}: ${message}`)
}

async function importDriver<T> (name: string): Promise<T> {
  try {
    const module = await import(name) as { default?: T } & T
    return module.default ?? module
  } catch (error) {
    throw new Error(`postgresCollector needs the optional peer dependencies pg and pg-copy-streams (npm install pg pg-copy-streams): ${name} could not be loaded: ${errorText(error)}`)
  }
}
