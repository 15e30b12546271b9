import { t as root, test } from 'tap'
import Fastify from 'fastify'
import type { Page } from 'playwright-core'
import { analyticsDashboard } from '../../lib/dashboard/index.js'
import { createEvent, EventType, type AnalyticsEvent } from '../../lib/event.js'
import type { TapTest } from '../helpers/collectors.js'
import { startBrowser } from '../helpers/browser.js'
import { dayAgo, reportFixture } from '../warehouse/fixture.js'
import { openStore, type StoreKind } from './stores.js'
import { BREAKDOWN_REPORTS, breakdownFromReport, summaryFromReports } from './api-suite.js'

// The page's globals, for the functions page.evaluate runs there (the tests compile without the DOM library).
interface DomNode { dataset: Record<string, string | undefined>, textContent: string | null, querySelectorAll: (selector: string) => DomNode[] }
declare const document: DomNode & { body: DomNode }
declare const window: { __xss?: unknown }

// Markup and script in every stored text a visitor controls: the page must show it as text.
const MARKUP = '"><img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'

/** A visitor whose path, referrer, landing page, source and event name are hostile. */
export function hostileEvents (): AnalyticsEvent[] {
  const visit = { id: '00000000-0000-4000-8000-0000000000aa', startedAt: new Date(Date.now() - 3 * 86_400_000), landingPath: `/landing${MARKUP}`, channel: 'Referral' as const, source: `evil.example${MARKUP}`, medium: 'referral', campaign: `c${MARKUP}`, term: '', content: '', clickId: '' as const }
  const seen = { visitorId: 'dd'.repeat(16), visit, country: 'FR', hostname: 'shop.example', client: { browser: `B${MARKUP}`, browserVersion: '', os: 'Linux', osVersion: '', device: 'desktop', bot: false, crawler: null } }
  const page = createEvent(EventType.PageView, visit.startedAt)
  Object.assign(page, seen, { path: `/p${MARKUP}`, url: 'https://shop.example/p', referrer: 'javascript:window.__xss=3', method: 'GET', statusCode: 200 })
  const custom = createEvent(EventType.Custom, new Date(visit.startedAt.getTime() + 1000))
  Object.assign(custom, seen, { eventName: `javascript:window.__xss=4${MARKUP}`, path: '/p' })
  return [page, custom]
}

async function ready (page: Page): Promise<void> {
  await page.waitForFunction(() => document.body.dataset.state === 'ready' || document.body.dataset.state === 'error', undefined, { timeout: 20_000 })
  const state = await page.evaluate(() => document.body.dataset.state)
  if (state !== 'ready') throw new Error(`the page did not load: ${await page.textContent('#error')}`)
}

/** The shown summary: each card's exact value (data-value) and its text. */
async function cards (page: Page): Promise<Record<string, { value: string, text: string }>> {
  return await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-summary]')]
    .map((node) => [node.dataset.summary as string, { value: node.dataset.value ?? '', text: node.textContent ?? '' }])))
}

/** A table's rows as the page shows them: the name cell's text and the three numbers. */
async function tableRows (page: Page, dimension: string): Promise<string[][]> {
  return await page.evaluate((d) => [...document.querySelectorAll(`table[data-dimension="${d}"] tbody tr`)]
    .map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')), dimension)
}

/** The page in a real browser against one store holding the report fixture and a hostile visitor. */
export async function browserSuite (kind: StoreKind): Promise<void> {
  const t = root as unknown as TapTest
  const browser = await startBrowser(t)
  if (browser === undefined) return
  const store = await openStore(t, kind)
  if (store === undefined) return
  await store.load([...reportFixture(), ...hostileEvents()])
  const app = Fastify()
  await app.register(analyticsDashboard, { prefix: '/analytics', source: store.collector, access: 'public' })
  const origin = await app.listen({ port: 0, host: '127.0.0.1' })
  const context = await browser.newContext()
  const page = await context.newPage()
  const problems: string[] = []
  page.on('console', (message) => { if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`) })
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`))
  page.on('requestfailed', (request) => problems.push(`requestfailed: ${request.url()}`))
  const offsite: string[] = []
  page.on('request', (request) => { if (!request.url().startsWith(origin)) offsite.push(request.url()) })

  test(`${kind}: the page shows the numbers of the SQL reports`, async (t) => {
    await page.goto(`${origin}/analytics/`)
    await ready(page)
    const expected = await summaryFromReports(store)
    const shown = await cards(page)
    for (const key of ['visitors', 'visits', 'pageViews', 'viewsPerVisit', 'bounceRate', 'visitDurationSeconds']) {
      t.equal(shown[key].value, String(expected[key]), key)
    }
    t.equal(shown.visitors.text, String(expected.visitors), 'the visitors card shows the number')
    t.equal(shown.bounceRate.text, `${String(expected.bounceRate)}%`)
    const revenue = expected.revenue as Array<{ minor: string, amount: string, currency: string }>
    t.equal(shown.revenue.value, revenue.map((r) => `${r.minor} ${r.currency}`).join(','), 'revenue per currency')
    t.equal(shown.revenue.text, revenue.map((r) => `${r.amount} ${r.currency}`).join(' · '))
    for (const dimension of Object.keys(BREAKDOWN_REPORTS) as Array<keyof typeof BREAKDOWN_REPORTS>) {
      const rows = await tableRows(page, dimension)
      const report = (await breakdownFromReport(store, dimension)).slice(0, 3)
      t.same(rows.slice(0, 3).map((cells) => cells.slice(0, 3)), report.map((row) => [row.value === '' ? '(none)' : row.value, String(row.visitors), String(row.visits)]), `${dimension}: the first rows`)
    }
    const chart = await page.$$('#chart canvas')
    t.equal(chart.length, 1, 'the chart is drawn')
  })

  test(`${kind}: stored markup and javascript: URLs render inert, as text`, async (t) => {
    t.equal(await page.evaluate(() => window.__xss), undefined, 'no stored script ran')
    t.equal(await page.locator('main img, main script, main a[href]').count(), 0, 'no stored value became an element or a link')
    const pages = (await tableRows(page, 'pages')).map((cells) => cells[0])
    t.ok(pages.includes(`/p${MARKUP}`), 'the hostile path is shown as the text it is')
    const events = (await tableRows(page, 'events')).map((cells) => cells[0])
    t.ok(events.includes(`javascript:window.__xss=4${MARKUP}`), 'the hostile event name too')
  })

  test(`${kind}: a click on a row filters, the URL holds the view, and the filter comes off`, async (t) => {
    await page.click('table[data-dimension="channels"] button:text-is("Email")')
    await page.waitForURL(/channel=Email/)
    await ready(page)
    t.match(await cards(page), { visitors: { value: '1' }, visits: { value: '1' }, pageViews: { value: '1' } })
    t.equal(await page.textContent('[data-filter="channel"]'), 'Channel: Email×')
    const shared = page.url()
    // The same URL in a fresh page (a bookmark, a link sent to a colleague) shows the same view.
    const other = await context.newPage()
    await other.goto(shared)
    await ready(other)
    t.match(await cards(other), { visitors: { value: '1' }, visits: { value: '1' } })
    await other.close()
    await page.click('[data-filter="channel"] button')
    await ready(page)
    t.notMatch(page.url(), /channel=/)
    t.equal((await cards(page)).visitors.value, String((await summaryFromReports(store)).visitors))
  })

  test(`${kind}: the date range changes the numbers`, async (t) => {
    await page.goto(`${origin}/analytics/?period=custom&from=${dayAgo(2)}&to=${dayAgo(2)}`)
    await ready(page)
    t.match(await cards(page), { visitors: { value: '2' }, visits: { value: '2' }, pageViews: { value: '3' }, revenue: { value: '2999 GBP', text: '29.99 GBP' } })
    t.equal(await page.inputValue('#from'), dayAgo(2))
    await page.fill('#from', dayAgo(1))
    await page.fill('#to', dayAgo(1))
    await page.click('#period button[type=submit]')
    await page.waitForURL(new RegExp(`from=${dayAgo(1)}`))
    await ready(page)
    t.match(await cards(page), { visitors: { value: '2' }, visits: { value: '3' }, pageViews: { value: '3' } })
    await page.selectOption('#interval', 'hour')
    await page.waitForURL(/interval=hour/)
    await ready(page)
    t.equal(await page.textContent('#chart-title'), 'Visitors per hour')
  })

  test(`${kind}: no console errors, nothing loaded from another origin`, async (t) => {
    t.same(problems, [], 'no console error, CSP report, failed request or page error')
    t.same(offsite, [], 'every asset comes from the app')
  })

  test(`${kind}: closes`, async (t) => {
    await context.close()
    await app.close()
    await store.collector.close(AbortSignal.timeout(10_000))
    t.pass('closed')
  })
}
