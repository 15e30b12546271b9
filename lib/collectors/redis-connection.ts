import { createClient } from 'redis'
import type { RateLimitedLog } from '../log.js'

// What the Redis-backed stores (GA4 sessions, visits) share: a client they own when given a URL,
// how it connects at start, and what it does while Redis is away. Why node-redis and these
// settings: see lib/collectors/redis.ts.

/** Longest wait between reconnection attempts of a client a store owns. */
export const MAX_RECONNECT_DELAY_MS = 2000

/** The commands the stores use; a node-redis client (`createClient()`) has them. */
export interface RedisScriptClient {
  /** False while disconnected: the store then answers from memory without sending anything. */
  readonly isReady: boolean
  evalSha: (sha1: string, options: { keys: string[], arguments: string[] }) => Promise<unknown>
  eval: (script: string, options: { keys: string[], arguments: string[] }) => Promise<unknown>
}

/** What a store does with a client it created. */
export interface OwnedRedisClient extends RedisScriptClient {
  readonly isOpen: boolean
  connect: () => Promise<unknown>
  destroy: () => void
  on: (event: 'error', listener: (error: unknown) => void) => unknown
}

/**
 * A URL option checked (redis: or rediss:), with the password forms to redact from every message.
 * Returns an error message instead of throwing, so each store names itself in its own error.
 */
export function checkRedisUrl (url: unknown): { secrets: string[] } | string {
  let parsed: URL
  try {
    if (typeof url !== 'string') throw new TypeError('not a string')
    parsed = new URL(url)
  } catch {
    return 'url must be a string like "redis://host:6379"'
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') return 'url must use redis: or rediss:'
  return { secrets: [parsed.password, decodeURIComponent(parsed.password)].filter((s) => s !== '') }
}

/** A client that fails commands at once while disconnected and reconnects in the background. */
export function createOwnedClient (url: string, timeoutMs: number): OwnedRedisClient {
  return createClient({
    url,
    // Fail at once while disconnected: an event must not wait for a reconnection that may never come.
    disableOfflineQueue: true,
    commandOptions: { timeout: timeoutMs },
    socket: {
      connectTimeout: Math.max(timeoutMs, 1000),
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** Math.min(retries, 10), MAX_RECONNECT_DELAY_MS)
    }
  })
}

/**
 * Connects a client a store owns, waiting at most `max(timeoutMs, 1 s)` so the first requests
 * normally find it ready. Never rejects: Redis being down at boot must not fail the app's start.
 */
export async function connectOwned (owned: OwnedRedisClient | undefined, timeoutMs: number, log: RateLimitedLog, what: string, text: (error: unknown) => string): Promise<void> {
  if (owned === undefined || owned.isOpen) return
  const connecting = owned.connect().catch((error: unknown) => {
    log.warn('redis-connect', { error: text(error) }, `${what} could not connect`)
  })
  let timer: NodeJS.Timeout | undefined
  await Promise.race([connecting, new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(timeoutMs, 1000))
    timer.unref()
  })])
  clearTimeout(timer)
}
