import { expectAssignable, expectError, expectType } from 'tsd'
import { createClient } from 'redis'
import { ga4Collector, type Ga4SessionStats, type Ga4SessionStore, type SessionQuery } from 'fastify-analytics/ga4'
import { redisSessionStore, type RedisSessionClient } from 'fastify-analytics/redis'

const base = { measurementId: 'G-XXXX', apiSecret: 'secret' }

expectType<Ga4SessionStore>(redisSessionStore({ url: 'redis://127.0.0.1:6379' }))
expectType<Ga4SessionStore>(redisSessionStore({ url: 'redis://127.0.0.1:6379', keyPrefix: 'app:', timeoutMs: 200 }))
// A node-redis client is accepted as it is.
expectAssignable<RedisSessionClient>(createClient())
redisSessionStore({ client: createClient() })
expectError(redisSessionStore({}))
expectError(redisSessionStore({ url: 'redis://x', timeoutMs: '200' }))
expectError(redisSessionStore({ client: {} }))

const ga4 = ga4Collector({ ...base, sessions: redisSessionStore({ url: 'redis://127.0.0.1:6379' }), sessionTimeoutMs: 45 * 60_000 })
expectType<Ga4SessionStats>(ga4.sessionStats())
expectType<number>(ga4.sessionStats().fallbackBatches)
expectError(ga4Collector({ ...base, sessionTimeoutMs: '30m' }))
expectError(ga4Collector({ ...base, sessions: 'redis' }))

// A store of your own: one call per batch.
const custom: Ga4SessionStore = {
  kind: 'custom',
  timeoutMs: 300,
  async sessionIds (query: SessionQuery) {
    expectType<string>(query.scope)
    expectType<readonly number[]>(query.lookups[0].atMs)
    return query.lookups.map((lookup) => lookup.atMs.map(() => 1))
  }
}
ga4Collector({ ...base, sessions: custom })
