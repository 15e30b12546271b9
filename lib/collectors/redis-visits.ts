import { createHash, randomBytes } from 'node:crypto'
import type { Visit } from '../event.js'
import { DAY_MS, SALT_BYTES, startVisit, type Salts, type VisitHit, type VisitStore } from '../visits/index.js'
import { redisStoreSettings, RedisScriptStore, type RedisScriptClient } from './redis-connection.js'

interface CommonOptions {
  /** Prefix of every key. Default {@link DEFAULT_VISIT_KEY_PREFIX} (then `salt:<day>` and `visit:<visitor id>`). */
  keyPrefix?: string
  /** An event waits this long for Redis, then its visit comes from memory. Default 500 ms. */
  timeoutMs?: number
}

export interface RedisVisitStoreUrlOptions extends CommonOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]`. The store owns this client: it connects at start and closes with the app. */
  url: string
  client?: never
}

export interface RedisVisitStoreClientOptions extends CommonOptions {
  /** Your node-redis client. You connect it, listen to its `error` event and close it; the store only sends scripts. */
  client: RedisScriptClient
  url?: never
}

export type RedisVisitStoreOptions = RedisVisitStoreUrlOptions | RedisVisitStoreClientOptions

export const DEFAULT_VISIT_KEY_PREFIX = 'fastify-analytics:visits:'
export const DEFAULT_VISIT_REDIS_TIMEOUT_MS = 500
/** Visit keys outlive the visit timeout by this much: instances' clocks differ a little. */
export const VISIT_KEY_SLACK_MS = 60_000
/**
 * A salt lives 48 hours from its creation: through its own day and the next (when it is
 * "yesterday's", for visits that cross midnight), and never longer.
 */
export const SALT_TTL_MS = 2 * DAY_MS

/**
 * The day's salt, made by whichever instance asks first (SET NX), and yesterday's ('' when none).
 * ARGV: a fresh random salt (hex), its time to live.
 */
export const SALTS_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])
return { redis.call('GET', KEYS[1]), redis.call('GET', KEYS[2]) or '' }
`

/**
 * One visitor's visit, continued or started atomically: the rules of MemoryVisitStore
 * (lib/visits/store.ts) on the server, so every instance and the in-memory fallback agree.
 * KEYS: today's visitor key, yesterday's (the same key when not asked). The hash holds `last` (ms of
 * the latest event), `key` (the visit's attribution, '' for Direct) and `visit` (its JSON).
 * ARGV: timeout ms, event ms, key ttl ms, the request's attribution key ('' for Direct), the visit
 * to start (JSON) if none continues. Returns the visit's JSON.
 */
export const VISIT_SCRIPT = `
local timeout = tonumber(ARGV[1])
local at = tonumber(ARGV[2])
local fields = redis.call('HMGET', KEYS[1], 'last', 'key', 'visit')
if not fields[1] and KEYS[2] ~= KEYS[1] then
  fields = redis.call('HMGET', KEYS[2], 'last', 'key', 'visit')
  if fields[1] then redis.call('DEL', KEYS[2]) end
end
local last = tonumber(fields[1])
local lastText = fields[1]
local key = fields[2]
local visit = fields[3]
if last == nil or at - last >= timeout or (ARGV[4] ~= '' and ARGV[4] ~= key) then
  lastText = ARGV[2]
  key = ARGV[4]
  visit = ARGV[5]
elseif at > last then
  lastText = ARGV[2]
end
redis.call('HSET', KEYS[1], 'last', lastText, 'key', key, 'visit', visit)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return visit
`

const SALTS_SHA = createHash('sha1').update(SALTS_SCRIPT).digest('hex')
const VISIT_SHA = createHash('sha1').update(VISIT_SCRIPT).digest('hex')

/** The request's attribution as one comparable string; '' for Direct (which never starts a visit). */
function attributionKey (hit: VisitHit): string {
  const a = hit.attribution
  if (a.channel === 'Direct' && a.source === '(direct)') return ''
  return JSON.stringify([a.source, a.medium, a.campaign, a.term, a.content, a.clickId])
}

interface StoredVisit extends Omit<Visit, 'startedAt'> {
  startedAt: number
}

function decodeVisit (json: unknown): Readonly<Visit> {
  if (typeof json !== 'string') throw new Error('unexpected reply from the visit script')
  const stored = JSON.parse(json) as StoredVisit
  if (typeof stored?.id !== 'string' || typeof stored.startedAt !== 'number') throw new Error('unexpected visit in Redis')
  return Object.freeze({ ...stored, startedAt: new Date(stored.startedAt) })
}

class RedisVisitStore extends RedisScriptStore implements VisitStore {
  async salts (day: number): Promise<Salts> {
    const reply = await this.#run(SALTS_SHA, SALTS_SCRIPT, [`${this.prefix}salt:${day}`, `${this.prefix}salt:${day - 1}`],
      [randomBytes(SALT_BYTES).toString('hex'), String(SALT_TTL_MS)])
    if (!Array.isArray(reply) || typeof reply[0] !== 'string' || reply[0].length === 0) throw new Error('unexpected reply from the salts script')
    const yesterday: unknown = reply[1]
    return {
      today: Buffer.from(reply[0], 'hex'),
      yesterday: typeof yesterday === 'string' && yesterday !== '' ? Buffer.from(yesterday, 'hex') : undefined
    }
  }

  async visit (hit: VisitHit): Promise<Readonly<Visit>> {
    const today = `${this.prefix}visit:${hit.visitorId}`
    const previous = hit.previousVisitorId === '' ? today : `${this.prefix}visit:${hit.previousVisitorId}`
    // The visit the rules would start, as JSON stores it: the script keeps it only if none is running.
    const start: StoredVisit = { ...startVisit(hit), startedAt: hit.atMs }
    const reply = await this.#run(VISIT_SHA, VISIT_SCRIPT, [today, previous], [
      String(hit.timeoutMs), String(hit.atMs), String(hit.timeoutMs + VISIT_KEY_SLACK_MS), attributionKey(hit), JSON.stringify(start)
    ])
    return decodeVisit(reply)
  }

  async #run (sha: string, script: string, keys: string[], args: string[]): Promise<unknown> {
    const client = this.client
    if (!client.isReady) throw new Error('Redis is not connected')
    try {
      return await client.evalSha(sha, { keys, arguments: args })
    } catch (error) {
      // The script cache is empty after a restart or on a new server; both scripts are safe to run again.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw new Error(this.text(error))
      return await client.eval(script, { keys, arguments: args })
    }
  }
}

/**
 * Visits and daily salts shared by every instance of the app: `visits: { store: redisVisitStore({ url }) }`.
 * Needs the `redis` package (node-redis 5 or 6). Throws `FST_ANALYTICS_INVALID_OPTION` for options
 * that cannot work (never quoting the URL's password). Redis Cluster: the salt keys of two days must
 * be on one node, so give a `keyPrefix` with a hash tag (`{fa}:visits:`).
 */
export function redisVisitStore (options: RedisVisitStoreOptions): VisitStore {
  const settings = redisStoreSettings('redisVisitStore', options, { keyPrefix: DEFAULT_VISIT_KEY_PREFIX, timeoutMs: DEFAULT_VISIT_REDIS_TIMEOUT_MS })
  return new RedisVisitStore(settings, 'Redis visit store')
}
