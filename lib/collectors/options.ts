import { FST_ANALYTICS_INVALID_OPTION } from '../errors.js'
import type { BatchingOptions } from '../batch/types.js'
import { EventType, type AnalyticsEvent } from '../event.js'
import { isIpPolicy, type IpPolicy } from '../privacy/ip.js'

/**
 * Which events a collector takes: a function of the event, or the shorthand `{ bots, types }`
 * (`bots: false`: no event whose `client.bot` is true, crawlers and scripts alike; `types`: only
 * these event types). A key the shorthand leaves out keeps the collector's default. Events a
 * collector does not take are not counted against it: not accepted, not dropped.
 *
 * The shorthand is plain data, so a collector given it still runs in the delivery worker; a
 * function cannot cross to a thread, so a collector given one runs on the request thread (said once
 * at registration).
 */
export type CollectorEvents = ((event: Readonly<AnalyticsEvent>) => boolean) | { bots?: boolean, types?: readonly EventType[] }

/** The `events` option every built-in collector takes. */
export interface CollectorEventsOption {
  /** Which events this collector takes; the default is the collector's (see its page). */
  events?: CollectorEvents
}

/** A collector's default for `events`: people-analytics destinations pass `{ bots: false }`. */
export interface CollectorEventsDefault {
  bots: boolean
}

/** Every event: stdout, the webhook and the warehouses. */
export const EVERY_EVENT: Readonly<CollectorEventsDefault> = Object.freeze({ bots: true })
/** No event from a bot: GA4 and Plausible (their terms and their numbers are about people). */
export const NO_BOT_EVENTS: Readonly<CollectorEventsDefault> = Object.freeze({ bots: false })

const EVENT_TYPES = new Set<string>(Object.values(EventType))

/**
 * The `events` option as the collector's `wants` member: undefined when it takes every event (the
 * fan-out then asks nothing). Throws `FST_ANALYTICS_INVALID_OPTION` for a value that cannot work.
 * Custom collectors call it too, so their users get the same option.
 */
export function eventsFilter (
  value: unknown, fallback: Readonly<CollectorEventsDefault> = EVERY_EVENT, invalid: (message: string) => Error = (message) => new FST_ANALYTICS_INVALID_OPTION(message)
): ((event: Readonly<AnalyticsEvent>) => boolean) | undefined {
  if (typeof value === 'function') return value as (event: Readonly<AnalyticsEvent>) => boolean
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw invalid('events must be a function (event) => boolean or an object { bots?: boolean, types?: EventType[] }')
  }
  const { bots = fallback.bots, types, ...rest } = (value ?? {}) as { bots?: unknown, types?: unknown }
  const unknown = Object.keys(rest)[0]
  if (unknown !== undefined) throw invalid(`events: unknown key "${unknown.slice(0, 64)}" (bots, types)`)
  if (typeof bots !== 'boolean') throw invalid('events.bots must be a boolean')
  let only: ReadonlySet<string> | undefined
  if (types !== undefined) {
    if (!Array.isArray(types) || types.length === 0 || !types.every((type) => typeof type === 'string' && EVENT_TYPES.has(type))) {
      throw invalid(`events.types must be a non-empty array of event types (${[...EVENT_TYPES].join(', ')})`)
    }
    only = new Set(types as string[])
  }
  if (bots && only === undefined) return undefined
  if (only === undefined) return (event) => !event.client.bot
  if (bots) return (event) => only.has(event.type)
  return (event) => !event.client.bot && only.has(event.type)
}

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
    // `events` is every collector's (eventsFilter): the engine collector base makes its wiring carry it.
    if (!ownKeys.has(key) && key !== 'events') throw invalid(`unknown option "${key.slice(0, 64)}"`)
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
