import { t as root, test } from 'tap'
import Fastify, { type FastifyInstance } from 'fastify'
import { analyticsDashboard } from '../../lib/dashboard/index.js'
import { Money } from '../../lib/money.js'
import { createEvent, EventType } from '../../lib/event.js'
import type { TapTest } from '../helpers/collectors.js'
import { dayAgo, reportFixture } from '../warehouse/fixture.js'
import { openStore, type Store, type StoreKind } from './stores.js'

/** Which shipped report each breakdown table equals, and the report's name for the row's value. */
export const BREAKDOWN_REPORTS = {
  pages: ['pages', 'path', 'page_views'],
  landing_pages: ['landing_pages', 'landing_path', undefined],
  channels: ['channels', 'channel', undefined],
  sources: ['sources', 'source', undefined],
  countries: ['countries', 'country', undefined],
  devices: ['devices', 'device', 'page_views'],
  browsers: ['browsers', 'browser', 'page_views'],
  os: ['operating_systems', 'os', 'page_views'],
  events: ['events', 'event', 'events']
} as const

/** The summary the shipped reports give for the same period: what the dashboard must show. */
export async function summaryFromReports (store: Store): Promise<Record<string, unknown>> {
  const [perDay, [views], [bounce], [duration], revenue] = await Promise.all([
    store.report('visitors_per_day'), store.report('views_per_visit'), store.report('bounce_rate'),
    store.report('visit_duration'), store.report('revenue_per_currency')
  ])
  return {
    // Visitor ids are daily: the period's visitors are the sum of each day's.
    visitors: perDay.reduce((sum, row) => sum + Number(row.visitors), 0),
    visits: Number(views.visits),
    pageViews: Number(views.page_views),
    viewsPerVisit: Number(views.views_per_visit),
    bounceRate: Number(bounce.bounce_rate),
    visitDurationSeconds: Number(duration.average_seconds),
    revenue: revenue.map((row) => ({
      currency: String(row.currency).trim(),
      minor: String(row.revenue_minor),
      amount: Money.fromMinor(BigInt(String(row.revenue_minor)), String(row.currency).trim()).toDecimalString(),
      orders: Number(row.orders)
    }))
  }
}

/** A breakdown report's rows in the API's shape. */
export async function breakdownFromReport (store: Store, dimension: keyof typeof BREAKDOWN_REPORTS): Promise<Array<Record<string, unknown>>> {
  const [name, valueColumn, countColumn] = BREAKDOWN_REPORTS[dimension]
  return (await store.report(name)).map((row) => ({
    value: String(row[valueColumn]),
    visitors: Number(row.visitors),
    visits: Number(row.visits),
    ...(countColumn === undefined ? {} : { [countColumn === 'events' ? 'events' : 'pageViews']: Number(row[countColumn]) })
  }))
}

async function json (app: FastifyInstance, url: string): Promise<unknown> {
  const response = await app.inject({ url })
  if (response.statusCode !== 200) throw new Error(`${url}: ${response.statusCode} ${response.body}`)
  return response.json()
}

/** The API tests, against one store loaded with the report fixture. */
export async function apiSuite (kind: StoreKind): Promise<void> {
  const store = await openStore(root as unknown as TapTest, kind)
  if (store === undefined) return
  await store.load(reportFixture())
  const app = Fastify()
  await app.register(analyticsDashboard, { prefix: '/analytics', source: store.collector, access: 'public' })
  root.teardown(() => app.close())

  test(`${kind}: the summary equals the shipped reports`, async (t) => {
    const expected = await summaryFromReports(store)
    t.same(await json(app, '/analytics/api/summary'), expected)
    // And the figures worked out by hand (test/warehouse/fixture.ts), so reports and API cannot agree on a wrong number.
    t.match(expected, { visitors: 4, visits: 5, pageViews: 6, viewsPerVisit: 1.2, bounceRate: 50, visitDurationSeconds: 372 })
  })

  test(`${kind}: every breakdown table equals its report`, async (t) => {
    for (const dimension of Object.keys(BREAKDOWN_REPORTS) as Array<keyof typeof BREAKDOWN_REPORTS>) {
      const expected = await breakdownFromReport(store, dimension)
      const rows = await json(app, `/analytics/api/breakdown/${dimension}`) as Array<Record<string, unknown>>
      t.ok(expected.length > 0, `${dimension}: the report has rows`)
      t.match(rows, expected, dimension)
      t.equal(rows.length, expected.length, `${dimension}: as many rows`)
    }
    // Campaigns: the report splits a campaign by source and medium; the table shows the campaign.
    t.match(await json(app, '/analytics/api/breakdown/campaigns'), [{ value: 'spring', visitors: 2, visits: 2 }])
    t.equal((await store.report('campaigns')).length, 2)
  })

  test(`${kind}: filters and the date range change the numbers`, async (t) => {
    const summary = (query: string): Promise<unknown> => json(app, `/analytics/api/summary?${query}`)
    t.match(await summary('channel=Email'), { visitors: 1, visits: 1, pageViews: 1, bounceRate: 100, revenue: [] }, 'channel')
    t.match(await summary('country=GB'), { visitors: 2, visits: 3, pageViews: 3, revenue: [{ currency: 'GBP', minor: '2999', amount: '29.99', orders: 1 }] }, 'country')
    t.match(await summary('page=%2Fproducts'), { visitors: 2, visits: 2, pageViews: 3 }, 'page')
    t.match(await summary('device=mobile&source=Google'), { visitors: 1, visits: 1, pageViews: 2, revenue: [{ currency: 'GBP', minor: '1001' }, { currency: 'JPY', minor: '1500', amount: '1500' }] }, 'two filters')
    t.match(await summary('campaign=spring'), { visitors: 2, visits: 2 }, 'campaign')
    t.match(await summary(`from=${dayAgo(2)}&to=${dayAgo(2)}`), { visitors: 2, visits: 2, pageViews: 3, revenue: [{ currency: 'GBP', minor: '2999' }] }, 'one day')
    t.match(await summary(`from=${dayAgo(1)}&to=${dayAgo(1)}`), { visitors: 2, visits: 3, pageViews: 3, revenue: [{ currency: 'GBP', minor: '1501', orders: 2 }, { currency: 'JPY', minor: '1500' }] }, 'the other day: the job\'s revenue counts')
    t.match(await summary(`from=${dayAgo(400)}&to=${dayAgo(300)}`), { visitors: 0, visits: 0, pageViews: 0, viewsPerVisit: 0, bounceRate: 0, visitDurationSeconds: 0, revenue: [] }, 'an empty period')
    t.same(await json(app, '/analytics/api/breakdown/channels?country=GB'), [
      { value: 'Organic Search', visitors: 2, visits: 2, pageViews: 2, events: 5 },
      { value: 'Email', visitors: 1, visits: 1, pageViews: 1, events: 1 }
    ], 'a filtered table')
    t.same(await json(app, '/analytics/api/breakdown/pages?limit=1'), [{ value: '/', visitors: 3, visits: 3, pageViews: 3, events: 3 }], 'limit')
  })

  test(`${kind}: the time series has every bucket of the range`, async (t) => {
    const days = await json(app, `/analytics/api/timeseries?metric=visitors&interval=day&from=${dayAgo(3)}&to=${dayAgo(1)}`)
    t.same(days, [
      { time: `${dayAgo(3)}T00:00:00.000Z`, value: 0 },
      { time: `${dayAgo(2)}T00:00:00.000Z`, value: 2 },
      { time: `${dayAgo(1)}T00:00:00.000Z`, value: 2 }
    ])
    const perDay = await store.report('visitors_per_day')
    t.same((days as Array<{ value: number }>).slice(1).map((p) => p.value), perDay.map((row) => Number(row.visitors)), 'the visitors_per_day report')
    const hours = await json(app, `/analytics/api/timeseries?metric=pageViews&interval=hour&from=${dayAgo(1)}&to=${dayAgo(1)}`) as Array<{ time: string, value: number }>
    t.equal(hours.length, 24)
    t.same(hours.filter((p) => p.value > 0), [
      { time: `${dayAgo(1)}T08:00:00.000Z`, value: 2 },
      { time: `${dayAgo(1)}T09:00:00.000Z`, value: 1 }
    ], 'ann\'s 08:00 and bob\'s 08:50 and 09:00 page views (the bot\'s 12:00 does not count)')
    t.same((await json(app, `/analytics/api/timeseries?metric=visits&from=${dayAgo(2)}&to=${dayAgo(1)}`) as Array<{ value: number }>).map((p) => p.value), [2, 3])
  })

  test(`${kind}: requests the API cannot answer are 400s, before any query`, async (t) => {
    const cases = [
      '/analytics/api/summary?from=2026-02-30',
      '/analytics/api/summary?from=yesterday',
      `/analytics/api/summary?from=${dayAgo(1)}&to=${dayAgo(2)}`,
      `/analytics/api/summary?from=${dayAgo(400)}`,
      `/analytics/api/timeseries?interval=hour&from=${dayAgo(40)}`,
      '/analytics/api/timeseries?metric=revenue',
      '/analytics/api/breakdown/pages?limit=1000',
      `/analytics/api/summary?page=${'x'.repeat(3000)}`
    ]
    for (const url of cases) t.equal((await app.inject({ url })).statusCode, 400, url.slice(0, 80))
    t.equal((await app.inject({ url: '/analytics/api/breakdown/passwords' })).statusCode, 400, 'an unknown table')
  })

  test(`${kind}: values are data: a filter that is SQL finds nothing and breaks nothing`, async (t) => {
    for (const hostile of ["' OR 1=1 --", "'); DROP TABLE x; --", '\\\'', 'a\u0001b']) {
      t.match(await json(app, `/analytics/api/summary?page=${encodeURIComponent(hostile)}`), { visitors: 0, pageViews: 0 }, JSON.stringify(hostile))
    }
    t.match(await json(app, '/analytics/api/summary'), { visitors: 4 }, 'the table is still there')
  })

  test(`${kind}: realtime counts the visitors of the last five minutes`, async (t) => {
    t.match(await json(app, '/analytics/api/realtime'), { visitors: 0 })
    const now = createEvent(EventType.PageView, new Date())
    Object.assign(now, { path: '/now', visitorId: 'ee'.repeat(16), visit: { id: '00000000-0000-4000-8000-0000000000ee', startedAt: new Date(), landingPath: '/now', channel: 'Direct', source: '(direct)', medium: '(none)', campaign: '', term: '', content: '', clickId: '' } })
    await store.load([now])
    t.match(await json(app, '/analytics/api/realtime'), { visitors: 1 })
  })

  // Closed here, in order, before the root's teardowns stop the server: tap does not wait for
  // the root's teardown promises one by one, and a server stopped under a closing pool is an error.
  test(`${kind}: the dashboard and the collector close`, async (t) => {
    await app.close()
    await store.collector.close(AbortSignal.timeout(10_000))
    t.pass('closed')
  })
}
