import { FST_ANALYTICS_INVALID_OPTION } from '../errors.js'
import type { BatchingOptions } from '../batch/types.js'
import { isIpPolicy, type IpPolicy } from '../privacy/ip.js'

// `satisfies` makes the compiler fail here when BatchingOptions gains a key: the collectors'
// unknown-option check then cannot silently refuse a new engine option.
const BATCHING_KEYS = {
  maxQueueSize: true,
  maxQueueBytes: true,
  maxBatchSize: true,
  maxBatchBytes: true,
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

/** The error factory of one collector: messages name the collector and the option, never a value. */
export function optionErrors (collector: string): (message: string) => Error {
  return (message) => new FST_ANALYTICS_INVALID_OPTION(`${collector}: ${message}`)
}

/**
 * The checks every HTTP collector's options start with: an object, no unknown key (a typo must not
 * be silently ignored), a non-empty name. Returns the name, `defaultName` when unset.
 */
export function checkCollectorOptions (
  options: unknown, ownKeys: ReadonlySet<string>, defaultName: string, invalid: (message: string) => Error, what: string
): string {
  if (options === null || typeof options !== 'object') throw invalid(`options must be an object with ${what}`)
  for (const key of Object.keys(options)) {
    if (!ownKeys.has(key)) throw invalid(`unknown option "${key.slice(0, 64)}"`)
  }
  const name = (options as { name?: unknown }).name ?? defaultName
  if (typeof name !== 'string' || name === '') throw invalid('name must be a non-empty string')
  return name
}

/** The `ip` option every built-in collector takes; `fallback` is the collector's default. */
export function ipPolicyOption (value: unknown, fallback: IpPolicy, invalid: (message: string) => Error): IpPolicy {
  if (value === undefined) return fallback
  if (!isIpPolicy(value)) throw invalid('ip must be "full", "truncate" or "none"')
  return value
}
