import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { createRequire } from 'node:module'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { libPath } from '../location.js'
import { errorText } from '../util.js'
import { normalizeDashboardOptions, type AnalyticsDashboardOptions } from './options.js'
import { openReader, QueryTimeout, type Reader } from './readers.js'
import {
  BadView, breakdown, DEFAULT_BREAKDOWN_LIMIT, isDimension, MAX_BREAKDOWN_LIMIT, realtime, summary, timeseries,
  VIEW_QUERY_PROPERTIES, viewOf, type ViewQuery
} from './api.js'
import { DIMENSION_NAMES, METRICS, type Metric } from './sql.js'

export type { AnalyticsDashboardOptions, DashboardAccess, DashboardSourceOptions } from './options.js'
export type { DashboardPgPool } from './readers.js'
export type { Summary, BreakdownRow, TimeseriesPoint, RevenueTotal } from './api.js'
export type { Dimension, Metric, FilterName } from './sql.js'
export { DEFAULT_DASHBOARD_QUERY_TIMEOUT_MS } from './options.js'
export { MAX_RANGE_DAYS, MAX_HOURLY_RANGE_DAYS, DEFAULT_RANGE_DAYS, DEFAULT_BREAKDOWN_LIMIT, MAX_BREAKDOWN_LIMIT, REALTIME_WINDOW_MS } from './api.js'
export { DIMENSION_NAMES, METRICS, FILTER_COLUMNS } from './sql.js'

/**
 * No inline script or style, nothing from another origin, never in a frame. uPlot positions its
 * parts through element.style (CSSOM), which style-src does not govern.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "font-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"
].join('; ')

interface Asset { type: string, body: Buffer }

// Beside this module in both builds (scripts/build.mjs copies them) and in the sources.
const ASSETS = join(dirname(libPath('dashboard/index.js')), 'assets')

/** Every file the page loads, read once at registration: served from memory, nothing from a CDN. */
function loadAssets (): Map<string, Asset> {
  const own = (name: string): Buffer => readFileSync(join(ASSETS, name))
  // uPlot ships its built files in dist/ (MIT, ~50 kB minified): resolved like any dependency.
  const uplot = (name: string): Buffer => readFileSync(createRequire(libPath('dashboard/index.js')).resolve(`uplot/dist/${name}`))
  return new Map([
    ['dashboard.js', { type: 'text/javascript; charset=utf-8', body: own('dashboard.js') }],
    ['dashboard.css', { type: 'text/css; charset=utf-8', body: own('dashboard.css') }],
    ['uplot.js', { type: 'text/javascript; charset=utf-8', body: uplot('uPlot.iife.min.js') }],
    ['uplot.css', { type: 'text/css; charset=utf-8', body: uplot('uPlot.min.css') }]
  ])
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
function escapeHtml (text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c])
}

const VIEW_QUERY = { type: 'object', properties: VIEW_QUERY_PROPERTIES } as const

/**
 * The dashboard: one HTML page and its JSON API, under the prefix it is registered with. Register
 * it with `app.register(analyticsDashboard, { prefix: '/analytics', source, access })`.
 */
export async function analyticsDashboard (fastify: FastifyInstance, options: AnalyticsDashboardOptions): Promise<void> {
  const settings = normalizeDashboardOptions(options)
  const assets = loadAssets()
  const base = `${fastify.prefix}/`
  const page = readFileSync(join(ASSETS, 'index.html'), 'utf8')
    .replaceAll('{{title}}', escapeHtml(settings.title))
    .replaceAll('{{base}}', escapeHtml(base))
  const log = fastify.log.child({ plugin: 'analytics-dashboard' })

  // Opened at the first request, when the app's collectors have started (an in-memory DuckDB is
  // reachable only through its collector); a failure is retried by the next request.
  let reader: Promise<Reader> | undefined
  const store = (): Promise<Reader> => {
    reader ??= openReader(settings.source, settings.queryTimeoutMs).catch((error: unknown) => {
      reader = undefined
      throw error
    })
    return reader
  }
  fastify.addHook('onClose', async function closeDashboardStore () {
    const open = reader
    reader = undefined
    if (open !== undefined) await open.then((r) => r.close()).catch(() => {})
  })

  const access = settings.access
  if (access !== 'public') {
    fastify.addHook('onRequest', async function dashboardAccess (request, reply) {
      let allowed = false
      try {
        allowed = await access(request, reply) === true
      } catch (error) {
        // An access check that throws denies; @fastify/basic-auth-style errors carry their 401.
        if ((error as { statusCode?: unknown }).statusCode === 401) reply.code(401)
        else log.warn({ error: errorText(error) }, 'analytics dashboard: the access check threw; denied')
      }
      if (allowed || reply.sent) return
      const status = reply.statusCode === 401 ? 401 : 403
      return reply.code(status).header('cache-control', 'no-store').type('text/plain; charset=utf-8')
        .send(status === 401 ? 'Unauthorized' : 'Forbidden')
    })
  }

  fastify.addHook('onSend', async function dashboardHeaders (_request, reply) {
    reply.header('content-security-policy', DASHBOARD_CSP)
    reply.header('x-frame-options', 'DENY')
    reply.header('x-content-type-options', 'nosniff')
    reply.header('referrer-policy', 'no-referrer')
    reply.header('cross-origin-resource-policy', 'same-origin')
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store')
  })

  fastify.get('/', async function dashboardPage (_request, reply) {
    return reply.type('text/html; charset=utf-8').send(page)
  })

  fastify.get<{ Params: { file: string } }>('/assets/:file', async function dashboardAsset (request, reply) {
    const asset = assets.get(request.params.file)
    if (asset === undefined) return reply.code(404).type('text/plain; charset=utf-8').send('Not Found')
    return reply.type(asset.type).header('cache-control', 'private, max-age=3600').send(asset.body)
  })

  /** Runs one API answer: 400 for a view that cannot be asked, 504 past the timeout, 503 when the store fails. */
  async function answer<T> (reply: FastifyReply, work: (reader: Reader) => Promise<T>): Promise<T | undefined> {
    try {
      return await work(await store())
    } catch (error) {
      if (error instanceof BadView) {
        reply.code(400).send({ statusCode: 400, error: 'Bad Request', message: error.message })
      } else if (error instanceof QueryTimeout) {
        reply.code(504).send({ statusCode: 504, error: 'Gateway Timeout', message: 'the analytics store took too long' })
      } else {
        log.error({ error: errorText(error) }, 'analytics dashboard: a query failed')
        reply.code(503).send({ statusCode: 503, error: 'Service Unavailable', message: 'the analytics store did not answer' })
      }
      return undefined
    }
  }

  fastify.get<{ Querystring: ViewQuery }>('/api/summary', { schema: { querystring: VIEW_QUERY } },
    async function dashboardSummary (request: FastifyRequest<{ Querystring: ViewQuery }>, reply) {
      return await answer(reply, (r) => summary(r, viewOf(request.query)))
    })

  type SeriesQuery = ViewQuery & { metric?: Metric, interval?: 'hour' | 'day' }
  fastify.get<{ Querystring: SeriesQuery }>('/api/timeseries', {
    schema: {
      querystring: { type: 'object', properties: { ...VIEW_QUERY_PROPERTIES, metric: { type: 'string', enum: METRICS }, interval: { type: 'string', enum: ['hour', 'day'] } } }
    }
  }, async function dashboardTimeseries (request, reply) {
    return await answer(reply, (r) => timeseries(r, viewOf(request.query), request.query.metric ?? 'visitors', request.query.interval ?? 'day'))
  })

  type BreakdownQuery = ViewQuery & { limit?: number }
  fastify.get<{ Querystring: BreakdownQuery, Params: { dimension: string } }>('/api/breakdown/:dimension', {
    schema: {
      params: { type: 'object', properties: { dimension: { type: 'string', enum: DIMENSION_NAMES } }, required: ['dimension'] },
      querystring: { type: 'object', properties: { ...VIEW_QUERY_PROPERTIES, limit: { type: 'integer', minimum: 1, maximum: MAX_BREAKDOWN_LIMIT } } }
    }
  }, async function dashboardBreakdown (request, reply) {
    const dimension = request.params.dimension
    if (!isDimension(dimension)) return reply.code(404).send({ statusCode: 404, error: 'Not Found', message: 'no such breakdown' })
    return await answer(reply, (r) => breakdown(r, viewOf(request.query), dimension, request.query.limit ?? DEFAULT_BREAKDOWN_LIMIT))
  })

  fastify.get('/api/realtime', async function dashboardRealtime (_request, reply) {
    return await answer(reply, (r) => realtime(r))
  })
}

// The name in Fastify's plugin tree and errors; not wrapped in fastify-plugin, so the routes and
// hooks stay inside the prefix the app registers it with.
Object.defineProperty(analyticsDashboard, Symbol.for('fastify.display-name'), { value: 'fastify-analytics-dashboard' })

export default analyticsDashboard
