// Hostile input, unit by unit: the event normaliser against the shipped JSON Schema, code-point
// truncation, Money, header sanitising, custom webhook headers, and the parsers that read
// attacker-controlled text (Accept-Language, Cookie, Retry-After, response bodies being redacted).
// Parsing must stay linear: asserted structurally (a parser's answer depends only on a bounded
// prefix) or with bounds so generous that only super-linear behaviour could cross them.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { test } from 'tap'
import fc from 'fast-check'
import { createEvent, EventType, eventToJSON, MAX_TIMESTAMP, MIN_TIMESTAMP, normalizeEventInput, truncateCodePoints } from '../../lib/event.js'
import { Money } from '../../lib/money.js'
import { firstLanguageTag } from '../../lib/enrich.js'
import { readGaCookies } from '../../lib/collectors/ga4/cookies.js'
import { sanitizeHeaderValue } from '../../lib/collectors/text.js'
import { webhookCollector } from '../../lib/collectors/webhook.js'
import { ga4Collector } from '../../lib/collectors/ga4.js'
import { parseRetryAfter } from '../../lib/http/retry-after.js'
import { redactPath, redactText } from '../../lib/http/redact.js'
import { startSink } from '../helpers/sink.js'
import { logCapture, type TapTest } from '../helpers/collectors.js'
import { webhookBodyValidator } from '../servers/webhook-rules.js'
import { cookieHeader, eventInput, moneyAttempt, text } from './arbitraries.js'

const codePoints = (value: string): number => Array.from(value).length

test('truncateCodePoints: a prefix of at most max code points, never splitting a pair, lone surrogates counted as code points', async (t) => {
  const withSurrogates = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 60 }),
    fc.array(fc.constantFrom('a', '\ud800', '\udfff', '😀', '\ud83d', '\ude00', 'é'), { maxLength: 60 }).map((parts) => parts.join(''))
  )
  fc.assert(fc.property(withSurrogates, fc.integer({ min: 0, max: 70 }), (value, max) => {
    const cut = truncateCodePoints(value, max)
    if (!value.startsWith(cut)) return false
    if (codePoints(cut) > max) return false
    if (codePoints(value) <= max && cut !== value) return false
    // A pair is never split: the cut does not end between a high and a low surrogate.
    const last = cut.charCodeAt(cut.length - 1)
    const next = value.charCodeAt(cut.length)
    return !(last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff)
  }), { numRuns: 500 })
  // Regression: a lone high surrogate followed by a character was taken for a pair, so URLs and user
  // agents came out longer than 2048 code points and broke the webhook schema (and GA4's 1000 cap).
  t.equal(codePoints(truncateCodePoints('\ud800a'.repeat(2000))), 2048)
})

test('every event the normaliser accepts serialises to the shipped webhook schema', async (t) => {
  const validate = webhookBodyValidator()
  let accepted = 0
  fc.assert(fc.property(eventInput, (input) => {
    const normalized = normalizeEventInput(input, new Date())
    if (typeof normalized === 'string') return true
    accepted++
    const body = { id: '6f1c1c1e-8a8a-4b4b-9c9c-0d0d0d0d0d0d', schema: 3, sentAt: new Date().toISOString(), events: [eventToJSON(normalized.event)] }
    // JSON round trip: what a receiver parses.
    return validate(JSON.parse(JSON.stringify(body))) === true
  }), { numRuns: 500 })
  t.ok(accepted > 25, `${accepted} random inputs accepted, each valid against the schema`)
  // Regressions: Date's range reaches year 275760 (toISOString writes "+275760-…") and the schema
  // says statusCode is an integer.
  for (const timestamp of [new Date('+010000-01-01T00:00:00Z'), new Date(-62198755200000), new Date(8.64e15)]) {
    t.type(normalizeEventInput({ type: 'pageview', timestamp }, new Date()), 'string', `${timestamp.toISOString()} is refused`)
  }
  t.type(normalizeEventInput({ type: 'pageview', statusCode: 200.5 }, new Date()), 'string', 'a fractional status code is refused')
  t.type(normalizeEventInput({ type: 'pageview', timestamp: new Date(MAX_TIMESTAMP), statusCode: 499 }, new Date()), 'object')
  t.type(normalizeEventInput({ type: 'pageview', timestamp: new Date(MIN_TIMESTAMP) }, new Date()), 'object')
})

test('Money: construction gives an exact Money or throws FST_ANALYTICS_INVALID_MONEY, never anything else', async (t) => {
  let built = 0
  fc.assert(fc.property(moneyAttempt, (attempt) => {
    if ('error' in attempt) return (attempt.error as { code?: string }).code === 'FST_ANALYTICS_INVALID_MONEY'
    built++
    const money = attempt.money
    const json = money.toJSON()
    if (!/^-?\d+(\.\d+)?$/.test(json.amount) || !/^[A-Z]{3}$/.test(json.currency)) return false
    // Exact: the decimal string holds every minor unit, with exactly `exponent` decimals.
    const [whole, fraction = ''] = json.amount.replace('-', '').split('.')
    if (fraction.length !== money.exponent) return false
    if (BigInt(whole + fraction) * (json.amount.startsWith('-') ? -1n : 1n) !== money.minor) return false
    const number = money.toNumber()
    return typeof number === 'number' && !Number.isNaN(number)
  }), { numRuns: 500 })
  t.ok(built > 20, `${built} Money values built`)
  t.throws(() => Money.fromMinor(10n ** 400n, 'GBP'), { code: 'FST_ANALYTICS_INVALID_MONEY' }, 'a 400-digit amount is refused (MAX_MONEY_DIGITS)')
})

test('sanitizeHeaderValue leaves only bytes a header may carry: no CR, LF or other control character', async (t) => {
  fc.assert(fc.property(text, (value) => /^[\x20-\x7e\x80-\xff]*$/.test(sanitizeHeaderValue(value))), { numRuns: 500 })
  t.equal(sanitizeHeaderValue('Mozilla/5.0\r\nX-Evil: 1'), 'Mozilla/5.0X-Evil: 1', 'what would have been a second header is glued into the value')
})

test('custom webhook headers: a value with CR, LF, a control or non-Latin-1 character is refused at construction; any other arrives exactly, alone', async (t) => {
  const sink = await startSink()
  t.teardown(() => sink.close())
  const name = fc.stringMatching(/^x-[a-z0-9-]{1,20}$/)
  const value = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary-ascii', maxLength: 40 }), fc.constantFrom('a\r\nX-Evil: 1', 'a\nb', 'tab\there', 'é', 'Ā', '\u0000'))
  let sent = 0
  let refused = 0
  await fc.assert(fc.asyncProperty(name, value, async (header, headerValue) => {
    let collector
    try {
      collector = webhookCollector({ url: `${sink.origin}/h`, headers: { [header]: headerValue }, flushIntervalMs: 1 })
    } catch (error) {
      refused++
      // Refused exactly when a character could not be sent as is (tabs too, conservatively).
      return (error as { code?: string }).code === 'FST_ANALYTICS_INVALID_OPTION' && /[^\x20-\x7e\x80-\xff]/.test(headerValue) &&
        !String((error as Error).message).includes(headerValue)
    }
    if (/[^\x20-\x7e\x80-\xff]/.test(headerValue)) return false
    collector.start(new AbortController().signal, { log: logCapture().log })
    const before = sink.requests.length
    collector.collect(createEvent(EventType.PageView, new Date()))
    await collector.flush(AbortSignal.timeout(3000))
    await collector.close(AbortSignal.timeout(3000))
    sent++
    const request = sink.requests[before]
    const names = request.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())
    const expected = new Set(['host', 'connection', 'content-length', 'content-type', 'user-agent', 'webhook-id', header])
    // HTTP strips leading and trailing whitespace from a field value.
    return request.headers[header] === headerValue.replace(/^[ \t]+|[ \t]+$/g, '') &&
      names.filter((n) => n === header).length === 1 &&
      names.every((n) => expected.has(n))
  }), { numRuns: 60 })
  t.ok(sent > 0 && refused > 0, `${sent} sent, ${refused} refused`)
})

test('Accept-Language: the locale depends only on the first 128 characters, whatever follows', async (t) => {
  const header = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 400 }),
    fc.array(fc.constantFrom('en', '-', 'GB', ',', ';', 'q=0.9', ' ', 'x'.repeat(9), '*', 'zh-Hant-TW'), { maxLength: 200 }).map((parts) => parts.join(''))
  )
  fc.assert(fc.property(header, text, (head, tail) => {
    const prefix = head.padEnd(128, ' ').slice(0, 128)
    return firstLanguageTag(prefix + tail) === firstLanguageTag(prefix)
  }), { numRuns: 300 })
  t.equal(firstLanguageTag(`en-GB${'-a'.repeat(500_000)}`), '', 'a megabyte of subtags: no tag, and only 128 characters looked at')
  t.equal(firstLanguageTag(['fr-CA,fr;q=0.9', 'en']), 'fr-CA')
})

test('Cookie: the _ga and _ga_<stream> values depend only on the first 8 KiB of the header', async (t) => {
  const stream = '_ga_HOSTILE1'
  fc.assert(fc.property(cookieHeader, fc.string({ maxLength: 2000 }), (head, tail) => {
    const prefix = head.padEnd(8192, ';').slice(0, 8192)
    const whole = readGaCookies(prefix + tail + '; _ga=GA1.1.1.1; _ga_HOSTILE1=GS1.1.1700000000.1', stream)
    const cut = readGaCookies(prefix, stream)
    return whole.clientId === cut.clientId && whole.sessionId === cut.sessionId
  }), { numRuns: 200 })
  t.pass('bounded prefix')
})

/** Runs `fn` over inputs of growing size; fails only if time grows far faster than the input. */
async function linear (t: TapTest, what: string, make: (n: number) => string, fn: (input: string) => unknown): Promise<void> {
  const input = make(256 * 1024)
  const started = process.hrtime.bigint()
  fn(input)
  const ms = Number(process.hrtime.bigint() - started) / 1e6
  // Linear work on 256 Ki characters takes a few milliseconds; quadratic work takes tens of seconds.
  t.ok(ms < 2000, `${what}: 256 Ki characters in ${ms.toFixed(1)} ms`)
}

test('redaction is linear on hostile text (it runs on response bodies and error messages)', async (t) => {
  const patterns: Array<[string, (n: number) => string]> = [
    ['letters', (n) => 'a'.repeat(n)],
    ['a query of letters', (n) => '?' + 'a'.repeat(n)],
    ['schemes', (n) => 'http:'.repeat(n / 5)],
    ['"://" runs', (n) => '://a'.repeat(n / 4)],
    ['parameters without values', (n) => '&a'.repeat(n / 2)],
    ['equals signs', (n) => '?a' + '='.repeat(n)],
    ['percent signs', (n) => '?key=' + '%'.repeat(n)],
    ['user infos without a host', (n) => 'https://' + 'u:'.repeat(n / 2)]
  ]
  for (const [what, make] of patterns) {
    await linear(t, `redactText, ${what}`, make, (input) => redactText(input, ['secret-value']))
    await linear(t, `redactPath, ${what}`, make, (input) => redactPath(input))
  }
  t.equal(redactText('see https://user:pw@host/x and http://a@b'), 'see https://[REDACTED]@host/x and http://[REDACTED]@b')
})

test('Retry-After parsing is linear on hostile values, and answers a non-negative number or nothing', async (t) => {
  await linear(t, 'seconds lookalike', (n) => ' '.repeat(n) + '1x', (input) => parseRetryAfter(input, 0))
  await linear(t, 'date lookalike', (n) => 'Mon, ' + '1'.repeat(n), (input) => parseRetryAfter(input, 0))
  await linear(t, 'date with many colons', (n) => 'Mon, ' + '1:'.repeat(n / 2), (input) => parseRetryAfter(input, 0))
  fc.assert(fc.property(fc.oneof(text, fc.date({ noInvalidDate: false }).map((d) => Number.isNaN(d.getTime()) ? 'x' : d.toUTCString()), fc.nat().map(String)), (value) => {
    const ms = parseRetryAfter(value, Date.now())
    return ms === undefined || (Number.isFinite(ms) && ms >= 0)
  }), { numRuns: 300 })
})

test('GA4 debug mode: 60 KiB of hostile validation messages do not stall the event loop', async (t) => {
  // Within the 64 KiB of a response body the transport keeps, so it is parsed and every message redacted.
  const description = 'a'.repeat(30 * 1024)
  const body = JSON.stringify({ validationMessages: [{ description, fieldPath: description, validationCode: 'VALUE_INVALID' }] })
  t.ok(body.length < 64 * 1024)
  const sink = await startSink({ policy: () => ({ kind: 'respond', status: 200, body }) })
  t.teardown(() => sink.close())
  const logs = logCapture()
  const collector = ga4Collector({ measurementId: 'G-HOSTILE1', apiSecret: 'debugSecretValue', endpoint: sink.origin, debug: true, flushIntervalMs: 1 })
  collector.start(new AbortController().signal, { log: logs.log })
  const delay = monitorEventLoopDelay({ resolution: 10 })
  delay.enable()
  const event = createEvent(EventType.PageView, new Date())
  event.clientIP = '203.0.113.9'
  event.userAgent = 'Mozilla/5.0'
  collector.collect(event)
  await collector.flush(AbortSignal.timeout(10_000))
  delay.disable()
  await collector.close(AbortSignal.timeout(2000))
  t.equal(collector.stats().dropped.rejected, 1, 'the flagged request is counted rejected')
  const worst = delay.max / 1e6
  // Before redaction was made linear, redacting these messages blocked the loop for seconds.
  t.ok(worst < 1000, `longest event-loop stall ${worst.toFixed(0)} ms`)
  t.ok(logs.text().includes('GA4 validation message'), 'the messages were logged (cut to 300 characters)')
})
