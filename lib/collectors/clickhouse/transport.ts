import { Readable } from 'node:stream'
import type { DeliveryTransport, HttpResponse, OutgoingRequest } from '../../batch/types.js'
import { errorText, noop } from '../../util.js'
import { TransportError } from '../../http/classify.js'
import { refused, retryable, STORED, withSignal } from '../warehouse/common.js'
import type { NormalizedClickHouseOptions } from './options.js'
import { clickhouseTableDDL, type ClickHouseTableFlavour } from './table.js'

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

type Settings = Pick<NormalizedClickHouseOptions, 'url' | 'database' | 'table' | 'username' | 'password' | 'createTable'>

/** One INSERT … FORMAT JSONEachRow per attempt through `@clickhouse/client` (the HTTP interface). */
export class ClickHouseTransport implements DeliveryTransport {
  readonly #settings: Settings
  /** Set by the collector from the engine's resolved options, before `open`. */
  limits = { concurrency: 1, timeoutMs: 10_000 }
  #client: Client | undefined
  readonly #insert: string

  constructor (settings: Settings) {
    this.#settings = settings
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
    if (s.createTable) await this.#createTable(signal)
  }

  async #createTable (signal: AbortSignal): Promise<void> {
    const client = this.#client as Client
    try {
      const [{ version }] = await withSignal(client.query({ query: 'SELECT version() AS version', format: 'JSONEachRow' }).then((r) => r.json<{ version: string }>()), signal)
      await withSignal(client.command({ query: clickhouseTableDDL(this.#settings.table, flavourFor(version)) }), signal)
    } catch (error) {
      throw new Error(`creating table ${this.#settings.database}.${this.#settings.table} failed: ${errorText(error)}`)
    }
  }

  async send (request: OutgoingRequest, signal: AbortSignal): Promise<HttpResponse> {
    try {
      // exec, not insert: insert re-encodes objects, exec sends the rows written at collect time as
      // they are, so a retry sends the same bytes.
      const result = await (this.#client as Client).exec({
        query: this.#insert,
        values: Readable.from([request.body], { objectMode: false }),
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
