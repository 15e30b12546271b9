// The shared event string (stdout lines, webhook bodies) is eventToJSON's form, byte for byte, though
// it is built without eventToJSON: timestamps come from a per-second memo, a frozen visit's JSON form
// from a memo per visit.
import { test } from 'tap'
import { createEvent, eventToJSON, EventType, type AnalyticsEvent, type Visit } from '../../lib/event.js'
import { eventJSONString, forgetEventJSON, isoString } from '../../lib/event-json.js'
import { Money } from '../../lib/money.js'
import { collectorIp } from '../../lib/privacy/index.js'

function visitAt (ms: number, frozen: boolean): Visit {
  const visit: Visit = {
    id: '0193b6a0-0000-7000-8000-000000000001',
    startedAt: new Date(ms),
    landingPath: '/landing',
    channel: 'Paid Search',
    source: 'google',
    medium: 'cpc',
    campaign: 'spring "sale"',
    term: 'shoes',
    content: '',
    clickId: 'google'
  }
  return frozen ? Object.freeze(visit) : visit
}

function anEvent (ms: number, extra: Partial<AnalyticsEvent> = {}): AnalyticsEvent {
  const event = createEvent(EventType.PageView, new Date(ms))
  event.url = 'https://shop.example/products/42?q=a%20b'
  event.path = '/products/42'
  event.userAgent = 'Mozilla/5.0 "quoted" \\ agent'
  event.clientIP = '203.0.113.7'
  event.properties.note = 'line\nbreak \u0001 😀'
  return Object.assign(event, extra)
}

// What the collectors send under `ip: 'full'` (an anonymous visitor's IP truncated all the same).
const expected = (event: AnalyticsEvent): string => JSON.stringify({ ...eventToJSON(event), clientIP: collectorIp(event, 'full') })

test('the shared string is JSON.stringify(eventToJSON(event)) across seconds, milliseconds and odd dates', async (t) => {
  const base = Date.UTC(2026, 11, 8, 1, 2, 3, 0)
  const times = [
    base, base + 1, base + 999, base + 1000, base + 7, base - 1, base + 86_400_000 + 500,
    0, -1, -999, -1000, -1001, Date.UTC(12_000, 0, 1, 0, 0, 0, 42), Date.UTC(-50, 5, 1, 0, 0, 0, 999), base, base + 10
  ]
  for (const ms of times) {
    const event = anEvent(ms)
    t.equal(eventJSONString(event, 'full'), expected(event), `timestamp ${new Date(ms).toISOString()}`)
    t.equal(isoString(new Date(ms)), new Date(ms).toISOString())
  }
  forgetEventJSON()
})

test('visits, frozen or not, and changed between events; revenue, consent and client', async (t) => {
  const frozen = visitAt(Date.UTC(2026, 0, 1, 0, 0, 0, 5), true)
  const open = visitAt(Date.UTC(2026, 0, 1, 0, 0, 1, 6), false)
  const now = Date.UTC(2026, 0, 1, 0, 5, 0, 0)
  for (const visit of [frozen, frozen, open, open]) {
    const event = anEvent(now, { visit })
    t.equal(eventJSONString(event, 'full'), expected(event))
  }
  // A visit that is not frozen may change: its new form is serialised, not a remembered one.
  open.landingPath = '/changed'
  open.startedAt = new Date(Date.UTC(2027, 1, 2, 3, 4, 5, 6))
  const changed = anEvent(now, { visit: open })
  t.match(eventJSONString(changed, 'full'), /"landingPath":"\/changed","channel"/)
  t.equal(eventJSONString(changed, 'full'), expected(changed))

  const rich = anEvent(now + 1, {
    type: EventType.Action,
    actionName: 'checkout',
    revenue: Money.fromMinor(1999, 'EUR'),
    consent: 'anonymous',
    client: { browser: 'Firefox', browserVersion: '128.0', os: 'Linux', osVersion: '', device: 'desktop', bot: false, crawler: null },
    userId: 'user-1',
    country: 'DE'
  })
  t.equal(eventJSONString(rich, 'full'), expected(rich))
  forgetEventJSON()
})

test('an invalid timestamp throws as eventToJSON does (the fan-out counts the event failed)', async (t) => {
  const event = anEvent(Number.NaN)
  t.throws(() => eventToJSON(event), RangeError)
  t.throws(() => eventJSONString(event, 'full'), RangeError)
  forgetEventJSON()
})
