import { test } from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Fastify, { type FastifyInstance } from 'fastify'
import { analyticsDashboard, DASHBOARD_CSP, type AnalyticsDashboardOptions } from '../../lib/dashboard/index.js'
import { DuckDBInstance } from '@duckdb/node-api'
import { duckdbCollector, duckdbTableDDL } from '../../lib/collectors/duckdb.js'
import { postgresCollector } from '../../lib/collectors/postgres.js'
import type { TapTest } from '../helpers/collectors.js'

const ROUTES = ['/analytics', '/analytics/', '/analytics/assets/dashboard.js', '/analytics/assets/uplot.js', '/analytics/api/summary',
  '/analytics/api/timeseries', '/analytics/api/breakdown/pages', '/analytics/api/realtime']

function tempPath (t: TapTest): string {
  const dir = mkdtempSync(join(tmpdir(), 'fa-dash-plugin-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return join(dir, 'analytics.duckdb')
}

/** A DuckDB file with the (empty) events table in it. */
async function emptyStore (t: TapTest): Promise<string> {
  const path = tempPath(t)
  const instance = await DuckDBInstance.create(path)
  const connection = await instance.connect()
  await connection.run(duckdbTableDDL('analytics_events'))
  connection.closeSync()
  instance.closeSync()
  return path
}

async function mount (t: TapTest, options: Partial<AnalyticsDashboardOptions>): Promise<FastifyInstance> {
  const app = Fastify()
  await app.register(analyticsDashboard, { prefix: '/analytics', source: { duckdb: { path: await emptyStore(t) } }, ...options } as AnalyticsDashboardOptions)
  t.teardown(() => app.close())
  return app
}

test('registering without access fails with FST_ANALYTICS_DASHBOARD_ACCESS, saying why', async (t) => {
  const app = Fastify()
  app.register(analyticsDashboard, { prefix: '/analytics', source: { duckdb: { path: 'x.duckdb' } } } as unknown as AnalyticsDashboardOptions)
  await t.rejects(async () => { await app.ready() }, { code: 'FST_ANALYTICS_DASHBOARD_ACCESS', message: /needs an access option.*'public'/s })
})

test('options that cannot work throw FST_ANALYTICS_INVALID_OPTION', async (t) => {
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ access: 'yes', source: { duckdb: { path: 'x' } } }, /access must be a function/],
    [{ access: 'public' }, /source is required/],
    [{ access: 'public', source: {} }, /exactly one of duckdb, postgres, clickhouse/],
    [{ access: 'public', source: { mysql: {} } }, /not a store the dashboard reads/],
    [{ access: 'public', source: { duckdb: {} } }, /path is required/],
    [{ access: 'public', source: { postgres: { connectionString: 'mysql://x' } } }, /postgres:\/\//],
    [{ access: 'public', source: { postgres: {} } }, /exactly one of connectionString and pool/],
    [{ access: 'public', source: { clickhouse: { url: 'http://u:secret@127.0.0.1:8123' } } }, /must not carry credentials/],
    [{ access: 'public', source: { duckdb: { path: 'x', table: 'a;b' } } }, /table must be/],
    [{ access: 'public', source: { duckdb: { path: 'x' } }, queryTimeoutMs: 0 }, /queryTimeoutMs/],
    [{ access: 'public', source: { duckdb: { path: 'x' } }, colour: 'red' }, /unknown option "colour"/]
  ]
  for (const [options, message] of cases) {
    const app = Fastify()
    app.register(analyticsDashboard, options as unknown as AnalyticsDashboardOptions)
    await t.rejects(async () => { await app.ready() }, { code: 'FST_ANALYTICS_INVALID_OPTION', message }, JSON.stringify(options))
    t.notMatch(await app.ready().then(() => '', (error: Error) => error.message), /secret/, 'no password in the message')
  }
})

test('access denying: 403 for the page, the assets and every API route, and nothing else', async (t) => {
  let asked = 0
  const app = await mount(t, { access: async () => { asked++; return false } })
  for (const url of ROUTES) {
    const response = await app.inject({ url })
    t.equal(response.statusCode, 403, url)
    t.equal(response.body, 'Forbidden', `${url}: no numbers, no page`)
    t.equal(response.headers['cache-control'], 'no-store')
  }
  t.equal(asked, ROUTES.length, 'asked once per request')
})

test('access asking for credentials: 401 with the WWW-Authenticate the check set; a check that throws denies', async (t) => {
  const app = await mount(t, {
    access: (request, reply) => {
      if (request.headers['x-boom'] !== undefined) throw new Error('session store down')
      if (request.headers.authorization === 'Basic b3duZXI6cGFzcw==') return true
      reply.header('www-authenticate', 'Basic realm="analytics"').code(401)
      return false
    }
  })
  for (const url of ROUTES) {
    const response = await app.inject({ url })
    t.equal(response.statusCode, 401, url)
    t.equal(response.headers['www-authenticate'], 'Basic realm="analytics"')
    t.equal(response.body, 'Unauthorized')
  }
  t.equal((await app.inject({ url: '/analytics/api/realtime', headers: { 'x-boom': '1' } })).statusCode, 403, 'a throwing check denies')
  const allowed = await app.inject({ url: '/analytics/', headers: { authorization: 'Basic b3duZXI6cGFzcw==' } })
  t.equal(allowed.statusCode, 200)
  t.match(allowed.body, /<title>Analytics<\/title>/)
  const api = await app.inject({ url: '/analytics/api/realtime', headers: { authorization: 'Basic b3duZXI6cGFzcw==' } })
  t.equal(api.statusCode, 200, 'the API answers the allowed request')
  t.match(api.json(), { visitors: 0 })
})

test('a strict Content-Security-Policy with no inline script, no framing, no-store on the API', async (t) => {
  const app = await mount(t, { access: 'public', title: 'Shop <numbers> & "more"' })
  const page = await app.inject({ url: '/analytics/' })
  t.equal(page.statusCode, 200)
  t.equal(page.headers['content-security-policy'], DASHBOARD_CSP)
  t.match(DASHBOARD_CSP, /script-src 'self'(;|$)/)
  t.match(DASHBOARD_CSP, /frame-ancestors 'none'/)
  t.notMatch(DASHBOARD_CSP, /unsafe-inline|unsafe-eval|https?:/)
  t.equal(page.headers['x-frame-options'], 'DENY')
  t.equal(page.headers['x-content-type-options'], 'nosniff')
  t.notMatch(page.body, /<script>|<script [^>]*>[^<]|\son[a-z]+=|style=/i, 'no inline script, handler or style in the page')
  t.match(page.body, /<title>Shop &lt;numbers&gt; &amp; &quot;more&quot;<\/title>/, 'the title is escaped')
  t.notMatch(page.body, /https?:\/\//, 'nothing from another origin')
  const api = await app.inject({ url: '/analytics/api/summary' })
  t.equal(api.statusCode, 200)
  t.equal(api.headers['cache-control'], 'no-store')
  t.match(api.headers['content-type'], /^application\/json/)
  t.equal((await app.inject({ url: '/analytics/assets/nope.js' })).statusCode, 404)
  t.equal((await app.inject({ url: '/analytics/assets/..%2F..%2Fpackage.json' })).statusCode, 404, 'only the listed assets')
})

test('a store that does not answer is a 503 (logged), never a crash; the next request tries again', async (t) => {
  const app = await mount(t, { access: 'public', source: { postgres: { connectionString: 'postgres://nobody@127.0.0.1:1/none' } }, queryTimeoutMs: 2000 })
  const response = await app.inject({ url: '/analytics/api/summary' })
  t.equal(response.statusCode, 503)
  t.same(response.json(), { statusCode: 503, error: 'Service Unavailable', message: 'the analytics store did not answer' })
  t.equal((await app.inject({ url: '/analytics/api/realtime' })).statusCode, 503)
})

test('the source can be the collector itself: the dashboard reads the store the collector writes', async (t) => {
  const collector = duckdbCollector({ path: tempPath(t), flushIntervalMs: 10 })
  const app = await mount(t, { access: 'public', source: collector })
  t.equal((await app.inject({ url: '/analytics/api/realtime' })).statusCode, 503, 'before the collector started there is no table yet')
  t.ok(postgresCollector({ connectionString: 'postgres://x@127.0.0.1/y' }), 'a PostgreSQL collector is a source too (tested against a server in api-postgres)')
})
