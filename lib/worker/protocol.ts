import type { WireEvent, WireValue } from './codec.js'
import type { PipelineSettings } from '../pipeline/index.js'

// The messages between the request thread (host.ts) and the delivery worker (worker.ts).

export type { DeliveryMode } from '../options.js'

export type Member = 'start' | 'flush' | 'close'

/** In a batch, the mask of an entry for the worker's pipeline (a capture), not an event for collectors. */
export const PIPELINE_ENTRY = -1

export interface WorkerInit {
  collectors: Array<{ module: string, factory: string, options: unknown }>
  snapshot: SharedArrayBuffer
  /** Set when the pipeline runs in the worker: the request thread then sends captures, not events. */
  pipeline?: PortablePipelineSettings
}

/** The pipeline's settings as plain data: visits in memory, on the worker's own clock. */
export type PortablePipelineSettings = Omit<PipelineSettings, 'visits'> & { visits: { timeoutMs: number } | false }

export type ToWorker =
  /**
   * Flat: an entry, then the bit mask of the collectors that accepted it; or a capture for the
   * worker's pipeline, then PIPELINE_ENTRY (-1).
   */
  | { t: 'events', entries: Array<WireEvent | WireValue[] | number> }
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
