// What enters an event decides whether a warehouse batch lands: one lone surrogate made ClickHouse
// refuse a whole INSERT, one year-0000 timestamp made PostgreSQL refuse a whole COPY. Through the
// plugin, against the real servers.
import { t as root, test } from 'tap'
import Fastify from 'fastify'
import analytics, { EventType } from '../../lib/index.js'
import { clickhouseCollector } from '../../lib/collectors/clickhouse.js'
import { postgresCollector } from '../../lib/collectors/postgres.js'
import { assertBalanced, type TapTest } from '../helpers/collectors.js'
import { CLICKHOUSE_PASSWORD, CLICKHOUSE_USER, startClickHouse, type ClickHouseServer } from '../helpers/servers/clickhouse.js'
import { startPostgres, type PostgresServer } from '../helpers/servers/postgres.js'

const clickhouse = await startClickHouse(root as unknown as TapTest)
const postgres = await startPostgres(root as unknown as TapTest)
const skip = clickhouse === undefined || postgres === undefined

const BAD = 'x\uD800y\u0000z'
const CLEAN = 'x\uFFFDyz'

test('a lone surrogate and a NUL in every field, and unstorable timestamps, sink no warehouse batch', { skip }, async (t) => {
  const ch = clickhouse as ClickHouseServer
  const pg = postgres as PostgresServer
  const app = Fastify()
  await app.register(analytics, {
    collectors: [
      clickhouseCollector({ url: ch.url, username: CLICKHOUSE_USER, password: CLICKHOUSE_PASSWORD, table: 'input_events', createTable: true, flushIntervalMs: 50 }),
      postgresCollector({ connectionString: pg.url, table: 'input_events', createTable: true, flushIntervalMs: 50 })
    ]
  })
  await app.ready()
  app.analytics.track({ type: EventType.Custom, eventName: 'before' })
  app.analytics.track({
    type: EventType.Custom,
    eventName: BAD,
    actionName: BAD,
    locale: BAD,
    hostname: BAD,
    userId: BAD,
    matchedPattern: BAD,
    url: `https://shop.example/${BAD}`,
    path: `/${BAD}`,
    method: BAD,
    userAgent: BAD,
    referrer: `https://ref.example/${BAD}`,
    properties: { [BAD]: BAD }
  })
  for (const timestamp of [new Date('0000-01-01T00:00:00Z'), new Date('1969-12-31T23:59:59Z'), new Date('2106-02-08T00:00:00Z')]) {
    app.analytics.track({ type: EventType.Custom, eventName: 'unstorable', timestamp })
  }
  app.analytics.track({ type: EventType.Custom, eventName: 'after' })
  await app.close()
  t.equal(app.analytics.stats().events.invalid, 3, 'the unstorable timestamps were refused at track()')
  assertBalanced(t, app.analytics.stats().collectors)
  for (const name of ['clickhouse', 'postgres']) {
    t.match(app.analytics.stats().collectors[name], { accepted: 3, delivered: 3, dropped: { rejected: 0, failed: 0 } }, `${name}: the whole batch landed`)
  }
  const chRows = await ch.query<{ event_name: string, user_id: string, path: string }>("SELECT event_name, user_id, path FROM input_events WHERE event_name NOT IN ('before', 'after')")
  t.same(chRows, [{ event_name: CLEAN, user_id: CLEAN, path: `/${CLEAN}` }], 'ClickHouse stored U+FFFD, no NUL')
  const pgRows = await pg.query<{ event_name: string, user_id: string, properties: Record<string, string> }>("SELECT event_name, user_id, properties FROM input_events WHERE event_name NOT IN ('before', 'after')")
  t.same(pgRows, [{ event_name: CLEAN, user_id: CLEAN, properties: { [CLEAN]: CLEAN } }], 'PostgreSQL stored U+FFFD, no NUL')
})
