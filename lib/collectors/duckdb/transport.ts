import type { DeliveryTransport, HttpResponse, OutgoingRequest } from '../../batch/types.js'
import { errorText, noop } from '../../util.js'
import { TransportError } from '../../http/classify.js'
import type { RateLimitedLog } from '../../log.js'
import { ANY_TIME, refused, refusedRows, retryable, STORED, withSignal } from '../warehouse/common.js'
import { storeIsolatingRefused } from '../warehouse/split.js'
import { openDuckDB, type DuckDBConnectionLike, type DuckDBInstanceLike } from './driver.js'
import { DUCKDB_COLUMNS, duckdbAddColumns, duckdbTableDDL } from './table.js'

// The rows' fault: a value the column's type cannot take, a NOT NULL. Query errors start with their
// type (src/common/exception.cpp); the appender's casts say "Failed to cast value". A split isolates them.
const DATA_ERRORS = /^(Conversion|Constraint|Invalid Input|Out of Range) Error|^Failed to cast value|Could not convert/
// A table or column that does not exist: only creating them helps.
const CATALOG_ERROR = /^(Catalog|Binder) Error|^Table .* could not be found/

interface Settings {
  path: string
  table: string
  createTable: boolean
}

/**
 * Stores one batch per attempt through DuckDB's appender, inside one transaction, so a batch is
 * stored whole or not at all. Batches are stored one at a time: one connection, one writer.
 */
export class DuckDBTransport implements DeliveryTransport {
  readonly #settings: Settings
  readonly #log: RateLimitedLog
  /** Set by the collector from the engine's resolved options, before `open`. */
  limits = { concurrency: 1, timeoutMs: 10_000 }
  // TIMESTAMPTZ counts microseconds in 64 bits (±290 000 years): every Date fits.
  readonly timeRange = ANY_TIME
  #instance: DuckDBInstanceLike | undefined
  #connection: DuckDBConnectionLike | undefined
  /** The batch being stored: the next waits for it (one connection runs one transaction). */
  #turn: Promise<unknown> = Promise.resolve()
  readonly #schema: string | null
  readonly #name: string

  constructor (settings: Settings, log: RateLimitedLog) {
    this.#settings = settings
    this.#log = log
    const dot = settings.table.indexOf('.')
    this.#schema = dot === -1 ? null : settings.table.slice(0, dot)
    this.#name = settings.table.slice(dot + 1)
  }

  /** The open database, for a reader in the same process (the dashboard); undefined before start. */
  get instance (): DuckDBInstanceLike | undefined {
    return this.#instance
  }

  async open (signal: AbortSignal): Promise<void> {
    if (this.#connection !== undefined) return
    const instance = await withSignal(openDuckDB(this.#settings.path, 'duckdbCollector'), signal)
    const connection = await instance.connect()
    try {
      await withSignal(this.#prepareTable(connection), signal)
    } catch (error) {
      connection.closeSync()
      instance.closeSync()
      throw error
    }
    this.#instance = instance
    this.#connection = connection
  }

  /** With `createTable`, makes the table or adds the columns an earlier release's table lacks; without, reports what is missing. */
  async #prepareTable (connection: DuckDBConnectionLike): Promise<void> {
    const columns = await this.#columns(connection)
    const missing = DUCKDB_COLUMNS.filter((column) => !columns.has(column))
    if (missing.length === 0) return
    if (!this.#settings.createTable) {
      if (columns.size > 0) {
        this.#log.warn('columns', { missing }, `duckdb: table ${this.#settings.table} lacks columns this release writes, so every batch will be refused: set createTable: true to add them`)
      }
      return
    }
    try {
      if (this.#schema !== null) await connection.run(`CREATE SCHEMA IF NOT EXISTS "${this.#schema}"`)
      await connection.run(duckdbTableDDL(this.#settings.table))
      const added = await this.#columns(connection)
      const stillMissing = DUCKDB_COLUMNS.filter((column) => !added.has(column))
      for (const statement of duckdbAddColumns(this.#settings.table, stillMissing)) await connection.run(statement)
    } catch (error) {
      throw new Error(`creating table ${this.#settings.table} failed: ${errorText(error)}`)
    }
  }

  async #columns (connection: DuckDBConnectionLike): Promise<Set<string>> {
    const reader = await connection.runAndReadAll(
      'SELECT column_name FROM information_schema.columns WHERE table_name = $1 AND table_schema = coalesce($2, current_schema())',
      [this.#name, this.#schema])
    return new Set(reader.getRowObjectsJS().map((row) => String(row.column_name)))
  }

  /** Stores a batch; when DuckDB refuses its data, stores it in pieces so only the refused rows are lost. */
  async send (request: OutgoingRequest, signal: AbortSignal): Promise<HttpResponse> {
    const body = typeof request.body === 'string' ? request.body : Buffer.from(request.body).toString('utf8')
    const mine = this.#turn.then(() => storeIsolatingRefused(body, (piece) => this.#attempt(piece, signal)))
    this.#turn = mine.catch(noop)
    return await mine
  }

  async #attempt (body: string, signal: AbortSignal): Promise<HttpResponse> {
    const connection = this.#connection
    if (connection === undefined) throw retryable('NOT_OPEN', 'the database is not open')
    if (signal.aborted) throw new TransportError('aborted', 'ABORT_ERR', 'attempt aborted')
    // A query past the deadline is interrupted (DuckDB then rolls it back); the appender's own
    // calls are synchronous and bounded by the batch size.
    const onAbort = (): void => connection.interrupt()
    signal.addEventListener('abort', onAbort, { once: true })
    let open = false
    try {
      await connection.run('BEGIN TRANSACTION')
      open = true
      const appender = await connection.createAppender(this.#name, this.#schema)
      try {
        appendRows(appender, body)
      } finally {
        // Closing flushes what was appended into the transaction (and throws what the flush refused).
        appender.closeSync()
      }
      await connection.run('COMMIT')
      open = false
      return STORED
    } catch (error) {
      if (open) await connection.run('ROLLBACK').catch(noop)
      if (signal.aborted) throw new TransportError('aborted', 'ABORT_ERR', 'attempt aborted')
      const message = errorText(error)
      if (DATA_ERRORS.test(message)) return refusedRows(message)
      if (CATALOG_ERROR.test(message)) {
        return refused(`${message}: create table ${this.#settings.table} (schema/duckdb.sql) or set createTable: true`)
      }
      // I/O (a full disk), out of memory, a transaction conflict: another attempt may pass.
      throw retryable(/^(\w[\w ]*) Error/.exec(message)?.[1]?.toUpperCase().replaceAll(' ', '_') ?? 'DUCKDB', message)
    } finally {
      signal.removeEventListener('abort', onAbort)
    }
  }

  async close (): Promise<void> {
    await this.#turn
    this.#connection?.closeSync()
    // Drops this holder of the database: the file is closed (and its lock released) once no reader
    // in the process holds it either.
    this.#instance?.closeSync()
    this.#connection = undefined
    this.#instance = undefined
  }
}

/** Appends the rows `duckdbRow` wrote (one JSON array a line), each value as text or NULL. */
function appendRows (appender: { appendVarchar (value: string): void, appendNull (): void, endRow (): void }, body: string): void {
  let start = 0
  while (start < body.length) {
    let end = body.indexOf('\n', start)
    if (end === -1) end = body.length
    const values = JSON.parse(body.slice(start, end)) as Array<string | null>
    for (const value of values) {
      if (value === null) appender.appendNull()
      else appender.appendVarchar(value)
    }
    appender.endRow()
    start = end + 1
  }
}
