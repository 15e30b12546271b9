import { createEvent, EventType, type AnalyticsEvent } from '../../lib/event.js'
import { Money } from '../../lib/money.js'
import type { ClientInfo } from '../../lib/client.js'

const DAY = 86_400_000

/** A UTC day `daysAgo` before today, at `hour`:`minute`. */
function at (daysAgo: number, hour: number, minute = 0): Date {
  const today = Math.floor(Date.now() / DAY) * DAY
  return new Date(today - daysAgo * DAY + hour * 3_600_000 + minute * 60_000)
}

type Client = ClientInfo
const FIREFOX: Client = { browser: 'Firefox', browserVersion: '128.0', os: 'Linux', osVersion: '', device: 'desktop', bot: false }
const SAFARI: Client = { browser: 'Safari', browserVersion: '17.5', os: 'iOS', osVersion: '17.5', device: 'mobile', bot: false }
const GOOGLEBOT: Client = { browser: 'Googlebot', browserVersion: '2.1', os: '', osVersion: '', device: 'bot', bot: true }

function event (type: EventType, timestamp: Date, fields: Partial<AnalyticsEvent> & { client?: Client }): AnalyticsEvent {
  const created = createEvent(type, timestamp)
  return Object.assign(created, { method: type === EventType.PageView ? 'GET' : 'POST', statusCode: 200, hostname: 'shop.example', ...fields })
}

function page (daysAgo: number, hour: number, path: string, visitor: { ip: string, ua: string, userId?: string, client: Client }, referrer = ''): AnalyticsEvent {
  return event(EventType.PageView, at(daysAgo, hour), {
    path, url: `https://shop.example${path}`, matchedPattern: path, referrer, clientIP: visitor.ip, userAgent: visitor.ua,
    userId: visitor.userId ?? '', client: visitor.client, durationMs: 3.5
  })
}

const ann = { ip: '203.0.113.10', ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0', client: FIREFOX }
const bob = { ip: '198.51.100.20', ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) Safari/604.1', userId: 'bob', client: SAFARI }
const bot = { ip: '66.249.66.1', ua: 'Mozilla/5.0 (compatible; Googlebot/2.1)', client: GOOGLEBOT }

/**
 * Known data for the report queries: two days, three visitors (one a bot), pages, referrers,
 * actions with an error, purchases in two currencies, and a custom event with awkward text.
 */
export function reportFixture (): AnalyticsEvent[] {
  return [
    page(2, 9, '/', ann, 'https://www.google.com/search?q=shop'),
    page(2, 9, '/products', ann),
    page(2, 10, '/', bob, 'https://news.ycombinator.com/item?id=1'),
    page(2, 11, '/', bot),
    page(1, 8, '/', ann, 'https://www.google.com/'),
    page(1, 8, '/products', bob),
    page(1, 9, '/products', bob),
    page(1, 12, '/about', bot),
    event(EventType.Action, at(2, 9, 5), { actionName: 'checkout', matchedPattern: '/checkout', path: '/checkout', clientIP: ann.ip, userAgent: ann.ua, client: FIREFOX, revenue: Money.fromMinor(2999, 'GBP'), durationMs: 12 }),
    event(EventType.Action, at(1, 9, 5), { actionName: 'checkout', matchedPattern: '/checkout', path: '/checkout', clientIP: bob.ip, userAgent: bob.ua, userId: 'bob', client: SAFARI, revenue: Money.fromMinor(1500, 'JPY'), durationMs: 20 }),
    event(EventType.Action, at(1, 9, 6), { actionName: 'checkout', matchedPattern: '/checkout', path: '/checkout', clientIP: bob.ip, userAgent: bob.ua, userId: 'bob', client: SAFARI, revenue: Money.fromMinor(1001, 'GBP'), durationMs: 8 }),
    event(EventType.Action, at(1, 10), { actionName: 'POST /cart/:id', matchedPattern: '/cart/:id', path: '/cart/7', clientIP: ann.ip, userAgent: ann.ua, client: FIREFOX, statusCode: 500 }),
    event(EventType.Custom, at(1, 11), {
      eventName: 'note\tadded', clientIP: ann.ip, userAgent: ann.ua, client: FIREFOX,
      properties: Object.assign(Object.create(null) as Record<string, string>, { text: 'line 1\nline 2 \\ back\u0000slash', emoji: '😀\ud800' })
    })
  ]
}

/** The report results computed in JS from the fixture, in each query's column names and order. */
export function expectedReports (events: AnalyticsEvent[]): Record<string, Array<Record<string, string>>> {
  const day = (e: AnalyticsEvent): string => e.timestamp.toISOString().slice(0, 10)
  const pages = events.filter((e) => e.type === 'pageview')
  const countBy = <K extends string>(list: AnalyticsEvent[], key: (e: AnalyticsEvent) => K): Map<K, number> => {
    const map = new Map<K, number>()
    for (const e of list) map.set(key(e), (map.get(key(e)) ?? 0) + 1)
    return map
  }
  const visitor = (e: AnalyticsEvent): string => e.userId !== '' ? `u:${e.userId}` : `a:${e.clientIP}|${e.userAgent}`
  const clientOf = (e: AnalyticsEvent): Client => (e as AnalyticsEvent & { client: Client }).client
  const days = [...new Set(pages.map(day))].sort()
  const ranked = (map: Map<string, number>): Array<[string, number]> => [...map].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  const actions = events.filter((e) => e.type === 'action')
  const actionKeys = [...new Set(actions.map((e) => `${e.actionName}\u0000${e.matchedPattern}`))]
  const revenue = new Map<string, { sum: bigint, orders: number }>()
  for (const e of events) {
    if (e.revenue === undefined) continue
    const entry = revenue.get(e.revenue.currency) ?? { sum: 0n, orders: 0 }
    entry.sum += e.revenue.minor
    entry.orders++
    revenue.set(e.revenue.currency, entry)
  }
  return {
    page_views_per_day: days.map((d) => ({ day: d, page_views: String(pages.filter((e) => day(e) === d).length) })),
    top_pages: ranked(countBy(pages, (e) => e.path)).map(([path, n]) => ({ path, page_views: String(n) })),
    unique_visitors_per_day: [...new Set(events.map(day))].sort().map((d) => ({
      day: d, visitors: String(new Set(events.filter((e) => day(e) === d).map(visitor)).size)
    })),
    top_referrers: ranked(countBy(pages.filter((e) => e.referrer !== ''), (e) => new URL(e.referrer).hostname))
      .map(([host, n]) => ({ referrer_host: host, page_views: String(n) })),
    actions_per_route: actionKeys.map((key) => {
      const [name, pattern] = key.split('\u0000')
      const list = actions.filter((e) => e.actionName === name && e.matchedPattern === pattern)
      return { action_name: name, matched_pattern: pattern, actions: String(list.length), errors: String(list.filter((e) => e.statusCode >= 400).length) }
    }).sort((a, b) => Number(b.actions) - Number(a.actions) || (a.action_name < b.action_name ? -1 : 1)),
    revenue_per_currency: [...revenue].sort((a, b) => a[0] < b[0] ? -1 : 1)
      .map(([currency, { sum, orders }]) => ({ currency, revenue_minor: String(sum), orders: String(orders) })),
    bots_vs_humans: [...countBy(events, (e) => clientOf(e).bot ? 'bot' : 'human')].sort((a, b) => a[0] < b[0] ? -1 : 1)
      .map(([kind, n]) => ({ visitor_kind: kind, events: String(n) }))
  }
}
