import { errorText } from '../../util.js'

/** The part of `@duckdb/node-api` the collector and the dashboard use. */
export interface DuckDBAppenderLike {
  appendVarchar (value: string): void
  appendNull (): void
  endRow (): void
  closeSync (): void
}

export interface DuckDBReaderLike {
  getRowObjectsJS (): Array<Record<string, unknown>>
}

export interface DuckDBConnectionLike {
  run (sql: string, values?: unknown[]): Promise<unknown>
  runAndReadAll (sql: string, values?: unknown[]): Promise<DuckDBReaderLike>
  createAppender (table: string, schema?: string | null): Promise<DuckDBAppenderLike>
  interrupt (): void
  closeSync (): void
}

export interface DuckDBInstanceLike {
  connect (): Promise<DuckDBConnectionLike>
  closeSync (): void
}

interface Driver {
  DuckDBInstance: {
    fromCache (path: string, options?: Record<string, string>): Promise<DuckDBInstanceLike>
    create (path: string, options?: Record<string, string>): Promise<DuckDBInstanceLike>
  }
}

/** Loads the optional peer dependency, or says how to install it. */
export async function loadDuckDB (who: string): Promise<Driver> {
  try {
    return await import('@duckdb/node-api') as unknown as Driver
  } catch (error) {
    throw new Error(`${who} needs the optional peer dependency @duckdb/node-api (npm install @duckdb/node-api): ${errorText(error)}`)
  }
}

/**
 * Opens the database at `path` through the driver's instance cache, so the collector and a
 * dashboard in the same process share one database (DuckDB takes a file lock per process, and two
 * instances of one file in a process would each believe they own it). A file another process holds
 * is reported as such.
 */
export async function openDuckDB (path: string, who: string): Promise<DuckDBInstanceLike> {
  const driver = await loadDuckDB(who)
  try {
    // An in-memory database is private to its instance: the cache would not share it anyway.
    return path === ':memory:' ? await driver.DuckDBInstance.create(path) : await driver.DuckDBInstance.fromCache(path)
  } catch (error) {
    const message = errorText(error)
    const holder = /Conflicting lock is held in (.*?) \(PID (\d+)\)/.exec(message)
    if (holder !== null || /Could not set lock/.test(message)) {
      throw new Error(`${path} is locked by another process${holder === null ? '' : ` (${holder[1]}, PID ${holder[2]})`}: ` +
        'one process owns a DuckDB file; give each process its own file, or store in PostgreSQL or ClickHouse to share one store between processes')
    }
    throw new Error(`opening ${path} failed: ${message}`)
  }
}
