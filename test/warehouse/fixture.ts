import { createEvent, EventType, type AnalyticsEvent } from '../../lib/event.js'
import { Money } from '../../lib/money.js'
import type { ClientInfo } from '../../lib/client.js'
import type { CrawlerPurpose } from '../../lib/crawlers/types.js'
import type { Visit } from '../../lib/event.js'

const DAY = 86_400_000

/** A UTC day `daysAgo` before today, at `hour`:`minute`. */
function at (daysAgo: number, hour: number, minute = 0): Date {
  const today = Math.floor(Date.now() / DAY) * DAY
  return new Date(today - daysAgo * DAY + hour * 3_600_000 + minute * 60_000)
}

type Client = ClientInfo
const FIREFOX: Client = { browser: 'Firefox', browserVersion: '128.0', os: 'Linux', osVersion: '', device: 'desktop', bot: false, crawler: null }
const SAFARI: Client = { browser: 'Safari', browserVersion: '17.5', os: 'iOS', osVersion: '17.5', device: 'mobile', bot: false, crawler: null }
const GOOGLEBOT: Client = { browser: 'Googlebot', browserVersion: '2.1', os: '', osVersion: '', device: 'bot', bot: true, crawler: { name: 'Googlebot', operator: 'Google', purpose: 'search', verified: true } }

function event (type: EventType, timestamp: Date, fields: Partial<AnalyticsEvent> & { client?: Client }): AnalyticsEvent {
  const created = createEvent(type, timestamp)
  return Object.assign(created, { method: type === EventType.PageView ? 'GET' : 'POST', statusCode: 200, hostname: 'shop.example', ...fields })
}

type Who = { ip: string, ua: string, userId?: string, client: Client }

/** The visitor and visit fields the visits layer puts on an event (and the country). */
interface Seen { visitorId: string, visit: Visit, country: string }

function page (daysAgo: number, hour: number, minute: number, path: string, visitor: Who, seen: Seen, referrer = ''): AnalyticsEvent {
  return event(EventType.PageView, at(daysAgo, hour, minute), {
    path,
    url: `https://shop.example${path}`,
    matchedPattern: path,
    referrer,
    clientIP: visitor.ip,
    userAgent: visitor.ua,
    userId: visitor.userId ?? '',
    client: visitor.client,
    durationMs: 3.5,
    ...seen
  })
}

const ann = { ip: '203.0.113.10', ua: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0', client: FIREFOX }
const bob = { ip: '198.51.100.20', ua: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) Safari/604.1', userId: 'bob', client: SAFARI }
const bot = { ip: '66.249.66.1', ua: 'Mozilla/5.0 (compatible; Googlebot/2.1)', client: GOOGLEBOT }

const NO_CAMPAIGN = { campaign: '', term: '', content: '', clickId: '' as const }
function visit (n: number, daysAgo: number, hour: number, minute: number, landingPath: string, attribution: Omit<Visit, 'id' | 'startedAt' | 'landingPath'>): Visit {
  return { id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`, startedAt: at(daysAgo, hour, minute), landingPath, ...attribution }
}
const GOOGLE_ORGANIC = { channel: 'Organic Search' as const, source: 'Google', medium: 'organic', ...NO_CAMPAIGN }
const DIRECT = { channel: 'Direct' as const, source: '(direct)', medium: '(none)', ...NO_CAMPAIGN }

// Daily visitor ids (a new one each day for the same person) and the visits they made.
const annDay2: Seen = { visitorId: 'a2'.repeat(16), country: 'GB', visit: visit(1, 2, 9, 0, '/', GOOGLE_ORGANIC) }
const bobDay2: Seen = { visitorId: 'b2'.repeat(16), country: 'US', visit: visit(2, 2, 10, 0, '/', { channel: 'Referral', source: 'news.ycombinator.com', medium: 'referral', ...NO_CAMPAIGN }) }
const botDay2: Seen = { visitorId: 'c2'.repeat(16), country: 'US', visit: visit(3, 2, 11, 0, '/', DIRECT) }
const annDay1Email: Seen = { visitorId: 'a1'.repeat(16), country: 'GB', visit: visit(4, 1, 8, 0, '/', { channel: 'Email', source: 'mailchimp', medium: 'email', campaign: 'spring', term: '', content: 'header', clickId: '' }) }
const bobDay1: Seen = { visitorId: 'b1'.repeat(16), country: 'DE', visit: visit(5, 1, 8, 50, '/products', { channel: 'Paid Search', source: 'Google', medium: 'cpc', campaign: 'spring', term: 'shoes', content: '', clickId: 'google' }) }
const botDay1: Seen = { visitorId: 'c1'.repeat(16), country: 'US', visit: visit(6, 1, 12, 0, '/about', DIRECT) }
const annDay1Search: Seen = { visitorId: 'a1'.repeat(16), country: 'GB', visit: visit(7, 1, 10, 0, '/cart/7', GOOGLE_ORGANIC) }

/**
 * Known data for the report queries: two days, three visitors (one a bot), seven visits (two the
 * bot's), pages, referrers, actions with an error, purchases in two currencies, a custom event with
 * awkward text, and a background job's purchase that has no visitor.
 *
 * Humans only (the bot's visits 3 and 6 never count), visit by visit:
 *   1  day 2  ann  Organic Search Google          GB  / 09:00, /products 09:02, checkout 09:05 (29.99 GBP)
 *   2  day 2  bob  Referral news.ycombinator.com  US  / 10:00
 *   4  day 1  ann  Email mailchimp spring         GB  / 08:00
 *   5  day 1  bob  Paid Search Google cpc spring  DE  /products 08:50, /products 09:00, checkout 09:05 (1500 JPY), 09:06 (10.01 GBP)
 *   7  day 1  ann  Organic Search Google          GB  POST /cart/7 10:00 (500), custom note 10:10
 *   -  day 1  job (no visitor, no visit)              invoice.paid 12:00 (5.00 GBP)
 */
export function reportFixture (): AnalyticsEvent[] {
  return [
    page(2, 9, 0, '/', ann, annDay2, 'https://www.google.com/search?q=shop'),
    page(2, 9, 2, '/products', ann, annDay2),
    page(2, 10, 0, '/', bob, bobDay2, 'https://news.ycombinator.com/item?id=1'),
    page(2, 11, 0, '/', bot, botDay2),
    page(1, 8, 0, '/', ann, annDay1Email, 'https://mail.example/'),
    page(1, 8, 50, '/products', bob, bobDay1),
    page(1, 9, 0, '/products', bob, bobDay1),
    page(1, 12, 0, '/about', bot, botDay1),
    event(EventType.Action, at(2, 9, 5), { actionName: 'checkout', matchedPattern: '/checkout', path: '/checkout', clientIP: ann.ip, userAgent: ann.ua, client: FIREFOX, revenue: Money.fromMinor(2999, 'GBP'), durationMs: 12, ...annDay2 }),
    event(EventType.Action, at(1, 9, 5), { actionName: 'checkout', matchedPattern: '/checkout', path: '/checkout', clientIP: bob.ip, userAgent: bob.ua, userId: 'bob', client: SAFARI, revenue: Money.fromMinor(1500, 'JPY'), durationMs: 20, ...bobDay1 }),
    event(EventType.Action, at(1, 9, 6), { actionName: 'checkout', matchedPattern: '/checkout', path: '/checkout', clientIP: bob.ip, userAgent: bob.ua, userId: 'bob', client: SAFARI, revenue: Money.fromMinor(1001, 'GBP'), durationMs: 8, ...bobDay1 }),
    event(EventType.Action, at(1, 10), { actionName: 'POST /cart/:id', matchedPattern: '/cart/:id', path: '/cart/7', clientIP: ann.ip, userAgent: ann.ua, client: FIREFOX, statusCode: 500, ...annDay1Search }),
    event(EventType.Custom, at(1, 10, 10), {
      eventName: 'note\tadded',
      clientIP: ann.ip,
      userAgent: ann.ua,
      client: FIREFOX,
      ...annDay1Search,
      properties: Object.assign(Object.create(null) as Record<string, string>, { text: 'line 1\nline 2 \\ back\u0000slash', emoji: '😀\ud800' })
    }),
    event(EventType.Custom, at(1, 12), { eventName: 'invoice.paid', method: '', statusCode: 0, hostname: '', revenue: Money.fromMinor(500, 'GBP') })
  ]
}

/** The day `daysAgo` days before today (UTC), as the reports print it. */
export function dayAgo (daysAgo: number): string {
  return at(daysAgo, 0).toISOString().slice(0, 10)
}

/**
 * The visitor and visit reports, worked out by hand from the table in `reportFixture`'s comment
 * (not computed from the events, so a wrong query and a wrong helper cannot agree by accident).
 * Numbers are numbers: PostgreSQL prints numeric 1.20 where ClickHouse prints 1.2.
 */
export function expectedVisitReports (): Record<string, Array<Record<string, string | number>>> {
  return {
    // Day 2: ann, bob (the bot is left out); day 1: ann's and bob's new daily ids (the job has none).
    visitors_per_day: [{ day: dayAgo(2), visitors: 2 }, { day: dayAgo(1), visitors: 2 }],
    // Visits 1, 2 started on day 2; 4, 5, 7 on day 1.
    visits_per_day: [{ day: dayAgo(2), visits: 2 }, { day: dayAgo(1), visits: 3 }],
    // 2 + 1 + 1 + 2 + 0 page views over 5 visits.
    views_per_visit: [{ visits: 5, page_views: 6, views_per_visit: 1.2 }],
    // Visits with a page view: 1, 2, 4, 5; one page view and nothing else: 2 and 4.
    bounce_rate: [{ visits: 4, bounces: 2, bounce_rate: 50 }],
    // 300 s (1) + 0 (2) + 0 (4) + 960 s (5) + 600 s (7) = 1860 s over 5 visits.
    visit_duration: [{ visits: 5, average_seconds: 372 }],
    channels: [
      { channel: 'Organic Search', visitors: 2, visits: 2 },
      { channel: 'Email', visitors: 1, visits: 1 },
      { channel: 'Paid Search', visitors: 1, visits: 1 },
      { channel: 'Referral', visitors: 1, visits: 1 }
    ],
    sources: [
      { source: 'Google', visitors: 3, visits: 3 },
      { source: 'mailchimp', visitors: 1, visits: 1 },
      { source: 'news.ycombinator.com', visitors: 1, visits: 1 }
    ],
    campaigns: [
      { campaign: 'spring', source: 'Google', medium: 'cpc', visitors: 1, visits: 1 },
      { campaign: 'spring', source: 'mailchimp', medium: 'email', visitors: 1, visits: 1 }
    ],
    // GB: ann's two daily ids over visits 1, 4, 7; the bot's US visits are left out.
    countries: [
      { country: 'GB', visitors: 2, visits: 3 },
      { country: 'DE', visitors: 1, visits: 1 },
      { country: 'US', visitors: 1, visits: 1 }
    ],
    landing_pages: [
      { landing_path: '/', visitors: 3, visits: 3 },
      { landing_path: '/cart/7', visitors: 1, visits: 1 },
      { landing_path: '/products', visitors: 1, visits: 1 }
    ],
    // The job's 5.00 GBP has no visit; the rows add up to revenue_per_currency.
    revenue_by_channel: [
      { channel: 'Organic Search', currency: 'GBP', revenue_minor: 2999, orders: 1 },
      { channel: 'Paid Search', currency: 'GBP', revenue_minor: 1001, orders: 1 },
      { channel: '(no visit)', currency: 'GBP', revenue_minor: 500, orders: 1 },
      { channel: 'Paid Search', currency: 'JPY', revenue_minor: 1500, orders: 1 }
    ],
    revenue_by_campaign: [
      { campaign: 'spring', source: 'Google', medium: 'cpc', currency: 'GBP', revenue_minor: 1001, orders: 1 },
      { campaign: 'spring', source: 'Google', medium: 'cpc', currency: 'JPY', revenue_minor: 1500, orders: 1 }
    ],
    // '/': visits 1 (a2), 2 (b2), 4 (a1); '/products': visit 1 (a2) once, visit 5 (b1) twice.
    pages: [
      { path: '/', visitors: 3, visits: 3, page_views: 3 },
      { path: '/products', visitors: 2, visits: 2, page_views: 3 }
    ],
    // ann is Firefox on Linux, desktop (visits 1, 4, 7); bob Safari on iOS, mobile (visits 2, 5).
    devices: [
      { device: 'desktop', visitors: 2, visits: 3, page_views: 3 },
      { device: 'mobile', visitors: 2, visits: 2, page_views: 3 }
    ],
    browsers: [
      { browser: 'Firefox', visitors: 2, visits: 3, page_views: 3 },
      { browser: 'Safari', visitors: 2, visits: 2, page_views: 3 }
    ],
    operating_systems: [
      { os: 'Linux', visitors: 2, visits: 3, page_views: 3 },
      { os: 'iOS', visitors: 2, visits: 2, page_views: 3 }
    ],
    // checkout in visits 1 and 5 (three orders); visit 7's action and note; the job has no visit.
    events: [
      { event: 'checkout', visitors: 2, visits: 2, events: 3 },
      { event: 'POST /cart/:id', visitors: 1, visits: 1, events: 1 },
      { event: 'note\tadded', visitors: 1, visits: 1, events: 1 }
    ]
  }
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

/**
 * An event with every visitor field set, for the column and migration tests of both databases. The
 * visit starts on a whole second: the 18.16 ClickHouse table stores seconds.
 */
export function visitedEvent (n: number, landingPath: string): AnalyticsEvent {
  const event = createEvent(EventType.PageView, new Date())
  event.path = `/p${n}`
  event.visitorId = 'ab'.repeat(16)
  event.country = 'FR'
  event.visit = {
    id: '0f0e0d0c-0b0a-4000-8000-00000000000' + String(n % 10),
    startedAt: new Date(Math.floor(Date.now() / 1000) * 1000 - 60_000),
    landingPath,
    channel: 'Paid Search',
    source: 'Google',
    medium: 'cpc',
    campaign: 'spring',
    term: 'red shoes',
    content: 'ad 1',
    clickId: 'google'
  }
  return event
}

/** The visitor columns of a row without a visit (stored before the migration, or a job's event). */
export const NO_VISIT_ROW = Object.freeze({
  visitor_id: '',
  visit_id: null,
  started: null,
  visit_landing_path: '',
  visit_channel: '',
  visit_source: '',
  visit_medium: '',
  visit_campaign: '',
  visit_term: '',
  visit_content: '',
  visit_click_id: '',
  country: ''
})

/** The crawler reports on `reportFixture`: its one bot is a verified Googlebot, on '/' (day 2) and '/about' (day 1). */
export function expectedCrawlerReports (): Record<string, Array<Record<string, string | number>>> {
  return {
    crawlers_per_day: [{ day: dayAgo(2), purpose: 'search', requests: 1 }, { day: dayAgo(1), purpose: 'search', requests: 1 }],
    crawler_pages: [{ crawler: 'Googlebot', path: '/', requests: 1, not_found: 0 }, { crawler: 'Googlebot', path: '/about', requests: 1, not_found: 0 }],
    spoofed_crawlers: []
  }
}

function crawlerClient (name: string, operator: string, purpose: CrawlerPurpose, verified: boolean | null): Client {
  return { browser: '', browserVersion: '', os: '', osVersion: '', device: 'bot', bot: true, crawler: { name, operator, purpose, verified } }
}

/**
 * Crawlers kept with bots: 'label', for the crawler reports (every event a page view):
 *   day 2  Googlebot (verified) /; Bingbot (no vendored ranges: null) /
 *   day 1  Googlebot (verified) /, /old (404); GPTBot (verified) /blog ×3; ClaudeBot (null) /blog (404)
 *   day 1  spoofs: "Googlebot" from 203.0.113.50 /, 203.0.113.51 /wp-login.php (404), 198.51.100.7 /;
 *          "GPTBot" from 192.0.2.1 /
 *   day 1  a person (Firefox) /: never a crawler
 */
export function crawlerFixture (): AnalyticsEvent[] {
  const googlebot = crawlerClient('Googlebot', 'Google', 'search', true)
  const fakeGooglebot = crawlerClient('Googlebot', 'Google', 'search', false)
  const gptbot = crawlerClient('GPTBot', 'OpenAI', 'ai-training', true)
  const fakeGptbot = crawlerClient('GPTBot', 'OpenAI', 'ai-training', false)
  const claudebot = crawlerClient('ClaudeBot', 'Anthropic', 'ai-training', null)
  const bingbot = crawlerClient('Bingbot', 'Microsoft', 'search', null)
  const hit = (daysAgo: number, minute: number, path: string, client: Client, clientIP: string, statusCode = 200): AnalyticsEvent =>
    event(EventType.PageView, at(daysAgo, 6, minute), { path, url: `https://shop.example${path}`, matchedPattern: statusCode === 404 ? '' : path, clientIP, client, statusCode, visitorId: '' })
  return [
    hit(2, 0, '/', googlebot, '66.249.66.1'),
    hit(2, 1, '/', bingbot, '157.55.39.1'),
    hit(1, 0, '/', googlebot, '66.249.66.1'),
    hit(1, 1, '/old', googlebot, '66.249.66.2', 404),
    hit(1, 2, '/blog', gptbot, '20.171.206.10'),
    hit(1, 3, '/blog', gptbot, '20.171.206.11'),
    hit(1, 4, '/blog', gptbot, '20.171.206.12'),
    hit(1, 5, '/blog', claudebot, '34.1.2.3', 404),
    hit(1, 6, '/', fakeGooglebot, '203.0.113.50'),
    hit(1, 7, '/wp-login.php', fakeGooglebot, '203.0.113.51', 404),
    hit(1, 8, '/', fakeGooglebot, '198.51.100.7'),
    hit(1, 9, '/', fakeGptbot, '192.0.2.1'),
    hit(1, 10, '/', FIREFOX, '203.0.113.10')
  ]
}

/** The crawler reports on `crawlerFixture`, worked out by hand from its comment (ip: 'full'). */
export function expectedCrawlerFixtureReports (): Record<string, Array<Record<string, string | number>>> {
  return {
    // Day 2: Googlebot and Bingbot (search); day 1: GPTBot ×3 and ClaudeBot (ai-training), Googlebot ×2.
    crawlers_per_day: [
      { day: dayAgo(2), purpose: 'search', requests: 2 },
      { day: dayAgo(1), purpose: 'ai-training', requests: 4 },
      { day: dayAgo(1), purpose: 'search', requests: 2 }
    ],
    crawler_pages: [
      { crawler: 'GPTBot', path: '/blog', requests: 3, not_found: 0 },
      { crawler: 'Googlebot', path: '/', requests: 2, not_found: 0 },
      { crawler: 'Bingbot', path: '/', requests: 1, not_found: 0 },
      { crawler: 'ClaudeBot', path: '/blog', requests: 1, not_found: 1 },
      { crawler: 'Googlebot', path: '/old', requests: 1, not_found: 1 }
    ],
    spoofed_crawlers: [
      { claimed: 'Googlebot', operator: 'Google', requests: 3, addresses: 3 },
      { claimed: 'GPTBot', operator: 'OpenAI', requests: 1, addresses: 1 }
    ]
  }
}
