import { Readable } from 'node:stream'
import type { DeliveryTransport, HttpResponse, OutgoingRequest } from '../../batch/types.js'
import { errorText, noop } from '../../util.js'
import { TransportError } from '../../http/classify.js'
import type { RateLimitedLog } from '../../log.js'
import { MissingTableError, refused, refusedRows, retryable, STORED, tableCheckAtStart, withSignal, type TimeRange } from '../warehouse/common.js'
import { storeIsolatingRefused } from '../warehouse/split.js'
import type { NormalizedClickHouseOptions } from './options.js'
import { clickhouseTableDDL, visitColumns, type ClickHouseTableFlavour } from './table.js'

/** The part of `@clickhouse/client` the collector uses. */
interface Client {
  exec (params: { query: string, values: Readable, abort_signal?: AbortSignal }): Promise<{ stream: Readable }>
  query (params: { query: string, format: 'JSONEachRow' }): Promise<{ json: <T>() => Promise<T[]> }>
  command (params: { query: string }): Promise<unknown>
  close (): Promise<void>
}
interface Driver {
  createClient: (config: object) => Client
  ClickHouseLogLevel: { OFF: unknown }
}

// Server error codes (src/Common/ErrorCodes.cpp) worth another attempt: timeouts, overload, too
// many parts, a full disk, a read-only replica, and 319 UNKNOWN_STATUS_OF_INSERT, the lost
// acknowledgement itself.
const RETRY_CODES = new Set(['159', '202', '203', '209', '210', '236', '241', '242', '243', '252', '319', '394', '425', '999'])
// UNKNOWN_TABLE, UNKNOWN_DATABASE.
const MISSING_TABLE = new Set(['60', '81'])
// Errors the rows' data causes (src/Common/ErrorCodes.cpp): CANNOT_PARSE_TEXT, _ESCAPE_SEQUENCE
// (a lone surrogate's \uD800), _QUOTED_STRING, _INPUT_ASSERTION_FAILED, _DATE, _DATETIME,
// TYPE_MISMATCH, ARGUMENT_OUT_OF_BOUND, CANNOT_CONVERT_TYPE, CANNOT_PARSE_NUMBER, INCORRECT_DATA,
// TOO_LARGE_STRING_SIZE, VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE, CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN,
// CANNOT_PARSE_UUID, DECIMAL_OVERFLOW, CANNOT_PARSE_BOOL, VIOLATED_CONSTRAINT. A split isolates them.
const DATA_CODES = new Set(['6', '25', '26', '27', '38', '41', '53', '69', '70', '72', '117', '131', '321', '349', '376', '407', '467', '469'])
// DUPLICATE_COLUMN, ILLEGAL_COLUMN: another instance added the column first (18.16 has no IF NOT EXISTS).
const ALREADY_ADDED = new Set(['15', '44'])

/** DateTime: unsigned 32-bit seconds. Out of range, 18.16 stores 1970-01-01 (or 2000-01-01 for year 0) without a word. */
export const DATETIME_RANGE: TimeRange = { min: 0, max: 4_294_967_295_000 }
/**
 * DateTime64: 1925-01-01 to 2283-11-11 on 22.x (later servers reach 1900 to 2299); outside it the
 * value saturates, so the narrower range is the one refused at collect.
 */
export const DATETIME64_RANGE: TimeRange = { min: Date.UTC(1925, 0, 1), max: Date.UTC(2283, 10, 11, 23, 59, 59, 999) }

type Settings = Pick<NormalizedClickHouseOptions, 'url' | 'database' | 'table' | 'username' | 'password' | 'createTable'>

/** One INSERT … FORMAT JSONEachRow per attempt through `@clickhouse/client` (the HTTP interface). */
export class ClickHouseTransport implements DeliveryTransport {
  readonly #settings: Settings
  /** Set by the collector from the engine's resolved options, before `open`. */
  limits = { concurrency: 1, timeoutMs: 10_000 }
  /** The table's: set by `open` from its timestamp column (DateTime or DateTime64). */
  timeRange: TimeRange = DATETIME_RANGE
  #client: Client | undefined
  readonly #insert: string
  readonly #log: RateLimitedLog

  constructor (settings: Settings, log: RateLimitedLog) {
    this.#settings = settings
    this.#log = log
    this.#insert = `INSERT INTO ${settings.table} FORMAT JSONEachRow`
  }

  async open (signal: AbortSignal): Promise<void> {
    if (this.#client !== undefined) return
    let driver: Driver
    try {
      driver = await import('@clickhouse/client') as unknown as Driver
    } catch (error) {
      throw new Error(`clickhouseCollector needs the optional peer dependency @clickhouse/client (npm install @clickhouse/client): ${errorText(error)}`)
    }
    const s = this.#settings
    this.#client = driver.createClient({
      url: s.url,
      username: s.username,
      password: s.password,
      database: s.database,
      request_timeout: this.limits.timeoutMs,
      max_open_connections: this.limits.concurrency,
      // The client logs failed requests to the console itself; the engine logs them once, rate-limited.
      log: { level: driver.ClickHouseLogLevel.OFF },
      clickhouse_settings: {
        // ISO 8601 timestamps with milliseconds and a Z (18.16's default parser takes neither),
        // and the 18.16 table's timestamp_ms column ignored by the modern table.
        date_time_input_format: 'best_effort',
        input_format_skip_unknown_fields: 1
      }
    })
    if (s.createTable) {
      try {
        await this.#prepareTable(signal)
      } catch (error) {
        throw new Error(`creating table ${s.database}.${s.table} failed: ${errorText(error)}`)
      }
    } else {
      // Only reads the table: a missing table fails start with the fix; a server still down at start
      // delays it by at most TABLE_CHECK_WAIT_MS. Until the check answers, collect refuses times
      // outside DateTime's range, the narrower one.
      await tableCheckAtStart(this.#prepareTable(signal))
    }
  }

  /**
   * With `createTable`, creates the table or adds the columns a table made by an earlier release
   * lacks. Either way, reads which DateTime the table has, for the range `collect` refuses outside.
   */
  async #prepareTable (signal: AbortSignal): Promise<void> {
    const [{ version }] = await this.#select<{ version: string }>('SELECT version() AS version', signal)
    const serverFlavour = flavourFor(version)
    if (this.#settings.createTable) await withSignal((this.#client as Client).command({ query: clickhouseTableDDL(this.#settings.table, serverFlavour) }), signal)
    let columns = await this.#columns(signal)
    if (columns.size === 0 && !this.#settings.createTable) {
      throw new MissingTableError(`clickhouse: table ${this.#settings.database}.${this.#settings.table} does not exist, so every batch would be refused: ` +
        'create it with schema/clickhouse.sql (schema/clickhouse-18.16.sql before ClickHouse 22), or set createTable: true')
    }
    // A table dropped after start is reported by every insert; its range is the server's DDL's.
    const tableFlavour = columns.size === 0 ? serverFlavour : (columns.get('timestamp') ?? '').startsWith('DateTime64') ? 'modern' : '18.16'
    this.timeRange = tableFlavour === 'modern' ? DATETIME64_RANGE : DATETIME_RANGE
    if (columns.size === 0) return
    const missing = visitColumns(tableFlavour).filter(([name]) => !columns.has(name))
    if (missing.length === 0) return
    if (!this.#settings.createTable) {
      this.#log.warn('columns', { missing: missing.map(([name]) => name) },
        `clickhouse: table ${this.#settings.database}.${this.#settings.table} lacks columns this release writes; their values are not stored: set createTable: true to add them`)
      return
    }
    const ifNotExists = serverFlavour === 'modern' ? 'IF NOT EXISTS ' : ''
    const alter = `ALTER TABLE ${this.#settings.table} ${missing.map(([name, type]) => `ADD COLUMN ${ifNotExists}${name} ${type}`).join(', ')}`
    try {
      await withSignal((this.#client as Client).command({ query: alter }), signal)
    } catch (error) {
      if (!ALREADY_ADDED.has(serverCode(error, errorText(error)) ?? '')) throw error
      columns = await this.#columns(signal)
      if (missing.some(([name]) => !columns.has(name))) throw error
    }
  }

  /** The table's columns and their types; empty when the table does not exist. */
  async #columns (signal: AbortSignal): Promise<Map<string, string>> {
    // Database and table names were checked as plain identifiers: safe inside quotes.
    const rows = await this.#select<{ name: string, type: string }>(
      `SELECT name, type FROM system.columns WHERE database = '${this.#settings.database}' AND table = '${this.#settings.table}'`, signal)
    return new Map(rows.map((row) => [row.name, row.type]))
  }

  async #select<R> (query: string, signal: AbortSignal): Promise<R[]> {
    return await withSignal((this.#client as Client).query({ query, format: 'JSONEachRow' }).then((result) => result.json<R>()), signal)
  }

  /** Inserts a batch; when ClickHouse refuses its data, inserts it in pieces so only the refused rows are lost. */
  async send (request: OutgoingRequest, signal: AbortSignal): Promise<HttpResponse> {
    const body = request.body
    if (typeof body !== 'string') return await this.#attempt(body, signal)
    return await storeIsolatingRefused(body, (piece) => this.#attempt(piece, signal))
  }

  async #attempt (body: string | Uint8Array, signal: AbortSignal): Promise<HttpResponse> {
    try {
      // exec, not insert: insert re-encodes objects, exec sends the rows written at collect time as
      // they are, so a retry sends the same bytes.
      const result = await (this.#client as Client).exec({
        query: this.#insert,
        values: Readable.from([body], { objectMode: false }),
        abort_signal: signal
      })
      // The (empty) response body must be read for the socket to go back to the pool.
      for await (const chunk of result.stream) void chunk
      return STORED
    } catch (error) {
      if (signal.aborted) throw new TransportError('aborted', 'ABORT_ERR', 'attempt aborted')
      const message = errorText(error)
      const code = serverCode(error, message)
      // Server errors carry a numeric code; anything else is the connection (refused, reset, timeout).
      if (code === undefined) {
        const socketCode = (error as { code?: unknown } | null)?.code
        throw /timeout/i.test(message)
          ? new TransportError('timeout', 'ATTEMPT_TIMEOUT', message)
          : retryable(typeof socketCode === 'string' ? socketCode : 'CONNECTION', message)
      }
      if (RETRY_CODES.has(code)) throw retryable(code, message)
      if (MISSING_TABLE.has(code)) {
        return refused(`${code}: ${message}: create ${this.#settings.database}.${this.#settings.table} (schema/clickhouse.sql or schema/clickhouse-18.16.sql) or set createTable: true`)
      }
      if (DATA_CODES.has(code)) return refusedRows(`${code}: ${message}`)
      return refused(`${code}: ${message}`)
    }
  }

  async close (signal: AbortSignal): Promise<void> {
    const client = this.#client
    if (client === undefined) return
    await withSignal(client.close(), signal).catch(noop)
  }
}

/**
 * The server's error code: the client parses it from current servers' "Code: 60. DB::Exception"
 * into `code`, but not from 18.16's "Code: 60, e.displayText() = DB::Exception", read here.
 */
function serverCode (error: unknown, message: string): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && /^\d+$/.test(code)) return code
  return /^Code: (\d+)[.,]/.exec(message)?.[1]
}

/** DateTime64 and LowCardinality by default arrived in 20.x; the modern table is used from 22 on. */
export function flavourFor (version: string): ClickHouseTableFlavour {
  return Number.parseInt(version, 10) >= 22 ? 'modern' : '18.16'
}
