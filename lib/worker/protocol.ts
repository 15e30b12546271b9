import type { WireEvent } from './codec.js'

// The messages between the request thread (host.ts) and the delivery worker (worker.ts).

/** Where the built-in collectors run: `'worker'` moves them to one worker thread; custom collectors always run inline. */
export type DeliveryMode = 'worker' | 'inline'

export type Member = 'start' | 'flush' | 'close'

export interface WorkerInit {
  collectors: Array<{ module: string, factory: string, options: unknown }>
  snapshot: SharedArrayBuffer
}

export type ToWorker =
  /** Wire events, flat: event, then the bit mask of the collectors that accepted it. */
  | { t: 'events', entries: Array<WireEvent | number> }
  | { t: 'call', id: number, index: number, member: Member }
  | { t: 'abort', id: number }

export interface SerializedError { message: string, name: string, code?: string }

export type FromWorker =
  | { t: 'done', id: number, error?: SerializedError }
  | { t: 'log', index: number, level: LogLevel, bindings: Record<string, unknown>, fields: unknown, message: string }

export type LogLevel = 'info' | 'warn' | 'error' | 'debug'

export function serializeError (error: unknown): SerializedError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code
    return typeof code === 'string' ? { message: error.message, name: error.name, code } : { message: error.message, name: error.name }
  }
  return { message: String(error), name: 'Error' }
}
