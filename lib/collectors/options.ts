import type { BatchingOptions } from '../batch/types.js'

// `satisfies` makes the compiler fail here when BatchingOptions gains a key: the collectors'
// unknown-option check then cannot silently refuse a new engine option.
const BATCHING_KEYS = {
  maxQueueSize: true,
  maxBatchSize: true,
  flushIntervalMs: true,
  concurrency: true,
  timeoutMs: true,
  retry: true,
  dispatcher: true
} as const satisfies Record<keyof BatchingOptions, true>

/** The option names every HTTP collector passes through to the delivery engine. */
export const BATCHING_OPTION_KEYS = Object.keys(BATCHING_KEYS) as Array<keyof BatchingOptions>

/**
 * Copies only the batching options, so the engine never holds (or could log) a collector's
 * other options: a webhook secret or a custom Authorization header stays with its collector.
 */
export function pickBatchingOptions (options: BatchingOptions): BatchingOptions {
  const picked: Record<string, unknown> = {}
  for (const key of BATCHING_OPTION_KEYS) {
    if (options[key] !== undefined) picked[key] = options[key]
  }
  return picked as BatchingOptions
}
