import { createClient } from 'redis'
import { FST_ANALYTICS_INVALID_OPTION } from '../errors.js'
import { redactText } from '../http/index.js'
import { RateLimitedLog, silentLogger, type Logger } from '../log.js'

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

/** The options every Redis-backed store takes: exactly one of `url` and `client`, a key prefix, a timeout. */
export interface RedisStoreOptions {
  url?: unknown
  client?: unknown
  keyPrefix?: unknown
  timeoutMs?: unknown
}

/** What a store is built from once its options are checked. */
export interface RedisStoreSettings {
  client: RedisScriptClient
  /** The client the store created from `url` (it closes it), else undefined (the app owns it). */
  owned: OwnedRedisClient | undefined
  prefix: string
  timeoutMs: number
  /** The URL's password forms, redacted from every message. */
  secrets: string[]
}

const STORE_OPTION_KEYS = new Set(['url', 'client', 'keyPrefix', 'timeoutMs'])

/**
 * Checks a Redis store's options and makes its client, the same way for every store. `store` names
 * it in the `FST_ANALYTICS_INVALID_OPTION` it throws (never quoting the URL's password).
 */
export function redisStoreSettings (store: string, options: RedisStoreOptions, defaults: { keyPrefix: string, timeoutMs: number }): RedisStoreSettings {
  const invalid = (message: string): never => { throw new FST_ANALYTICS_INVALID_OPTION(`${store}: ${message}`) }
  if (options === null || typeof options !== 'object') invalid('options must be an object')
  for (const key of Object.keys(options)) {
    if (!STORE_OPTION_KEYS.has(key)) invalid(`unknown option "${key.slice(0, 64)}"`)
  }
  const { url, client, keyPrefix, timeoutMs } = options
  if ((url === undefined) === (client === undefined)) invalid('give exactly one of url and client')
  if (keyPrefix !== undefined && typeof keyPrefix !== 'string') invalid('keyPrefix must be a string')
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 60_000)) {
    invalid('timeoutMs must be an integer from 1 to 60000')
  }
  const timeout = (timeoutMs as number | undefined) ?? defaults.timeoutMs
  const prefix = (keyPrefix as string | undefined) ?? defaults.keyPrefix
  if (client !== undefined) {
    const given = client as Partial<RedisScriptClient> | null
    if (typeof given !== 'object' || given === null || typeof given.evalSha !== 'function' || typeof given.eval !== 'function') {
      invalid('client must be a node-redis client (createClient() from the redis package)')
    }
    return { client: client as RedisScriptClient, owned: undefined, prefix, timeoutMs: timeout, secrets: [] }
  }
  const checked = checkRedisUrl(url)
  if (typeof checked === 'string') return invalid(checked)
  const owned = createOwnedClient(url as string, timeout)
  return { client: owned, owned, prefix, timeoutMs: timeout, secrets: checked.secrets }
}

/**
 * What every Redis-backed store does the same way: the client it was given or made, connecting it at
 * start without ever failing the app's start, destroying a client it made at close, and error text
 * with the URL's password redacted. Subclasses add their scripts.
 */
export abstract class RedisScriptStore {
  readonly kind = 'redis'
  readonly timeoutMs: number
  protected readonly client: RedisScriptClient
  protected readonly prefix: string
  protected readonly log = new RateLimitedLog(silentLogger)
  /** Set when the store created the client: it connects and closes it. */
  readonly #owned: OwnedRedisClient | undefined
  readonly #secrets: string[]
  /** `Redis visit store`, `Redis session store`: how log lines name it. */
  readonly #what: string

  constructor (settings: RedisStoreSettings, what: string) {
    this.client = settings.client
    this.#owned = settings.owned
    this.prefix = settings.prefix
    this.timeoutMs = settings.timeoutMs
    this.#secrets = settings.secrets
    this.#what = what
    // Without a listener an `error` event would crash the process; the plugin falls back instead.
    settings.owned?.on('error', (error: unknown) => {
      this.log.warn('redis-error', { error: this.text(error) }, `${what} connection error`)
    })
  }

  /**
   * Connects a client the store owns, waiting at most `max(timeoutMs, 1 s)` so the first lookups
   * normally find it ready. Never rejects: Redis being down at boot must not fail the app's start;
   * lookups fall back to memory meanwhile and node-redis keeps reconnecting.
   */
  async start (log: Logger): Promise<void> {
    this.log.log = log
    await connectOwned(this.#owned, this.timeoutMs, this.log, this.#what, (error) => this.text(error))
  }

  async close (): Promise<void> {
    // destroy, not close: nothing is pending once the plugin closes the store, and a Redis that
    // stopped answering must not hold up the app's shutdown.
    const owned = this.#owned
    if (owned !== undefined && owned.isOpen) owned.destroy()
  }

  protected text (error: unknown): string {
    return redactText(error instanceof Error ? error.message : String(error), this.#secrets, 300)
  }
}
