import { createHash } from 'node:crypto'
import type { Ga4SessionStore, SessionLookup, SessionQuery } from './ga4/session-store.js'
import { redisStoreSettings, RedisScriptStore, type RedisScriptClient } from './redis-connection.js'

export { redisVisitStore, DEFAULT_VISIT_KEY_PREFIX } from './redis-visits.js'
export type { RedisVisitStoreOptions, RedisVisitStoreUrlOptions, RedisVisitStoreClientOptions } from './redis-visits.js'
export type { RedisScriptClient } from './redis-connection.js'

export type { Ga4SessionStore, Ga4SessionStats, SessionLookup, SessionQuery } from './ga4/session-store.js'

// Why node-redis (`redis`) and not ioredis: Redis Ltd. maintains it and recommends it for new
// projects (ioredis is kept on a best-effort basis), it supports Node 20 in its current major, and it
// behaves as a batch needs when the server goes away: with `disableOfflineQueue` a command fails at
// once while disconnected instead of waiting in memory, commands already written are rejected when
// the socket drops, `reconnectStrategy` keeps reconnecting in the background, and a per-command
// `timeout` bounds a server that is connected but does not answer. Commands issued in one tick are
// written together (automatic pipelining): a batch is one round trip.

/** The commands the store uses; a node-redis client (`createClient()`) has them. */
export type RedisSessionClient = RedisScriptClient

interface CommonOptions {
  /** Prefix of every key. Default `'fastify-analytics:ga4:'` (then the measurement id and the client id). */
  keyPrefix?: string
  /** A batch waits this long for Redis, then its sessions are resolved in memory. Default 500 ms. */
  timeoutMs?: number
}

export interface RedisSessionStoreUrlOptions extends CommonOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]`. The store owns this client: it connects at start and closes with the collector. */
  url: string
  client?: never
}

export interface RedisSessionStoreClientOptions extends CommonOptions {
  /** Your node-redis client. You connect it, listen to its `error` event and close it; the store only sends scripts. */
  client: RedisSessionClient
  url?: never
}

export type RedisSessionStoreOptions = RedisSessionStoreUrlOptions | RedisSessionStoreClientOptions

export const DEFAULT_KEY_PREFIX = 'fastify-analytics:ga4:'
export const DEFAULT_REDIS_TIMEOUT_MS = 500
export { MAX_RECONNECT_DELAY_MS } from './redis-connection.js'
/**
 * Keys outlive a session's end by this much: instances' clocks differ a little, and a batch may be
 * prepared a few seconds after its events.
 */
export const KEY_EXPIRY_SLACK_MS = 60_000

/**
 * One visitor's session, updated atomically on the server: the rules of SessionTracker
 * (lib/collectors/ga4/session.ts), so the in-memory fallback and Redis agree. The value is
 * `<session id>:<last event ms>`; the key expires `timeout + slack` after the last event.
 * ARGV: timeout ms, now ms, slack ms, the session this instance knows (`<id>:<last ms>` or ''), then
 * the visitor's event times in queue order. The known session is used only when the key is missing.
 */
export const SESSION_SCRIPT = `
local timeout = tonumber(ARGV[1])
local value = redis.call('GET', KEYS[1])
if not value and ARGV[4] ~= '' then value = ARGV[4] end
local id, last
if value then
  local sep = string.find(value, ':', 1, true)
  id = tonumber(string.sub(value, 1, sep - 1))
  last = tonumber(string.sub(value, sep + 1))
end
local ids = {}
for i = 5, #ARGV do
  local at = tonumber(ARGV[i])
  if id == nil or at - last > timeout then
    id = math.max(1, math.floor(at / 1000))
    last = at
  elseif at > last then
    last = at
  end
  ids[#ids + 1] = id
end
local ttl = math.max(last + timeout - tonumber(ARGV[2]), 0) + tonumber(ARGV[3])
redis.call('SET', KEYS[1], string.format('%d:%d', id, last), 'PX', math.floor(ttl))
return ids
`
const SCRIPT_SHA = createHash('sha1').update(SESSION_SCRIPT).digest('hex')

class RedisSessionStore extends RedisScriptStore implements Ga4SessionStore {
  async sessionIds (query: SessionQuery): Promise<number[][]> {
    const client = this.client
    if (!client.isReady) throw new Error('Redis is not connected')
    const keyPrefix = `${this.prefix}${query.scope}:`
    const head = [String(query.timeoutMs), String(query.nowMs), String(KEY_EXPIRY_SLACK_MS)]
    const run = (useEval: boolean): Promise<unknown[]> => Promise.all(query.lookups.map((lookup: SessionLookup) => {
      const known = lookup.known === undefined ? '' : `${lookup.known.id}:${lookup.known.lastMs}`
      const options = { keys: [keyPrefix + lookup.clientId], arguments: [...head, known, ...lookup.atMs.map(String)] }
      return useEval ? client.eval(SESSION_SCRIPT, options) : client.evalSha(SCRIPT_SHA, options)
    }))
    let replies: unknown[]
    try {
      replies = await run(false)
    } catch (error) {
      // The script cache is empty after a restart or on a new server. Running the batch again is
      // safe: the script is idempotent for the same event times.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      replies = await run(true)
    }
    return replies.map((reply, i) => {
      if (!Array.isArray(reply) || reply.length !== query.lookups[i].atMs.length) throw new Error('unexpected reply from the session script')
      return reply.map(Number)
    })
  }
}

/**
 * A GA4 session store shared by every instance of the app: `ga4Collector({ …, sessions:
 * redisSessionStore({ url }) })`. Needs the `redis` package (node-redis 5 or 6). Throws
 * `FST_ANALYTICS_INVALID_OPTION` for options that cannot work (never quoting the URL's password).
 */
export function redisSessionStore (options: RedisSessionStoreOptions): Ga4SessionStore {
  const settings = redisStoreSettings('redisSessionStore', options, { keyPrefix: DEFAULT_KEY_PREFIX, timeoutMs: DEFAULT_REDIS_TIMEOUT_MS })
  return new RedisSessionStore(settings, 'Redis session store')
}
