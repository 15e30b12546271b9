// Property-based tests of the URL rules (issue 9): whatever the URL, no parameter outside the
// allow-list, no fragment and no email leaves; the policy never throws; and its work grows linearly
// with hostile input (counted in scanner steps and output sizes, never in wall-clock time).
import { test } from 'tap'
import fc from 'fast-check'
import { applyUrlPolicy, DEFAULT_ALLOWED_QUERY, queryScanMeter, type UrlPolicy } from '../../lib/privacy/url.js'
import { emailScanMeter, redactEmails } from '../../lib/privacy/email.js'
import { CLEAN_CACHE_KEY_LENGTH, CLEAN_CACHE_SIZE, UrlCleaner } from '../../lib/privacy/index.js'
import type { AnalyticsEvent } from '../../lib/event.js'
import { hasEmail, STANDARD_QUERY, urlViolations } from '../servers/privacy-rules.js'

const DEFAULT: UrlPolicy = { query: 'allowlist', allow: new Set(DEFAULT_ALLOWED_QUERY), redactEmails: true }
const RUNS = { numRuns: 500 }

const text = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constantFrom('&', '=', '#', '?', '%', '%40', '@', '+', '%26', '%3D', ';', '[email]')
)
const name = fc.oneof(
  fc.constantFrom(...STANDARD_QUERY, 'token', 'email', 'utm%5Fsource', 'UTM_SOURCE', 'utm_source ', ' ref', 'page', '__proto__'),
  text
)
const email = fc.emailAddress()
const value = fc.oneof(text, email, email.map(encodeURIComponent), email.map((e) => e.toUpperCase()))
const query = fc.array(fc.tuple(name, fc.option(value)), { maxLength: 8 })
  .map((pairs) => pairs.map(([k, v]) => (v === null ? k : `${k}=${v}`)).join('&'))
const url = fc.tuple(fc.constantFrom('https://shop.example', 'http://a.test:8080', '', '//x'), fc.array(text, { maxLength: 3 }), query, fc.option(text))
  .map(([origin, segments, q, fragment]) => `${origin}/${segments.join('/')}?${q}${fragment === null ? '' : `#${fragment}`}`)

test('allowlist: only allow-listed parameters, no fragment, no email ever leave', async (t) => {
  fc.assert(fc.property(url, (input) => {
    const output = applyUrlPolicy(input, DEFAULT)
    const violations = urlViolations('url', output, {})
    if (violations.length > 0) throw new Error(`${JSON.stringify(input)} → ${JSON.stringify(output)}: ${violations.join('; ')}`)
  }), RUNS)
  t.pass('no counterexample')
})

test('allowQuery extends the list; keep keeps every parameter; drop keeps none', async (t) => {
  const extended: UrlPolicy = { ...DEFAULT, allow: new Set([...DEFAULT_ALLOWED_QUERY, 'page', 'q']) }
  fc.assert(fc.property(url, (input) => {
    const output = applyUrlPolicy(input, extended)
    t.same(urlViolations('url', output, { allowQuery: [...STANDARD_QUERY, 'page', 'q'] }), [])
    const dropped = applyUrlPolicy(input, { ...DEFAULT, query: 'drop' })
    t.notOk(dropped.includes('?') || dropped.includes('#'), 'drop: no query, no fragment')
    const kept = applyUrlPolicy(input, { ...DEFAULT, query: 'keep', redactEmails: false })
    t.equal(kept, input.split('#')[0], 'keep: everything but the fragment')
  }), { numRuns: 100 })
  t.equal(applyUrlPolicy('/p?page=2&token=x&q=shoes#top', extended), '/p?page=2&q=shoes')
  t.equal(applyUrlPolicy('/p?utm_source=news&token=s3cret&utm_medium=mail', DEFAULT), '/p?utm_source=news&utm_medium=mail', 'order kept')
  t.equal(applyUrlPolicy('/p?token=s3cret', DEFAULT), '/p', 'no empty "?" left')
  t.equal(applyUrlPolicy('/p?utm%5Fsource=x&ref', DEFAULT), '/p?ref', 'names compared as they appear: an encoded name is dropped, a bare allowed name kept')
})

// URL delimiters (& = ? / #) end a local part by design, so `?email=a@b.cc` keeps `email=`: emails
// whose local part has one lose only the part after it, and are left out of the exact-match property.
const urlSafeEmail = email.filter((address) => !/[&=?/#]/.test(address.slice(0, address.lastIndexOf('@'))))

test('emails are redacted wherever they are, plain or percent-encoded, and only they', async (t) => {
  fc.assert(fc.property(email, (address) => !hasEmail(redactEmails(`/u/${address}`))), RUNS)
  const forms = {
    plain: (address: string) => address,
    encoded: (address: string) => encodeURIComponent(address),
    upper: (address: string) => address.toUpperCase(),
    // A URL inside a URL's query: `%40` becomes `%2540`.
    double: (address: string) => encodeURIComponent(encodeURIComponent(address)),
    dots: (address: string) => address.replace(/@(.*)$/, (_, domain: string) => `%40${domain.replaceAll('.', '%2E')}`),
    fullwidth: (address: string) => address.replace('@', '\uFF20')
  }
  fc.assert(fc.property(urlSafeEmail, fc.constantFrom(...Object.keys(forms) as Array<keyof typeof forms>), text, text, (address, form, before, after) => {
    const written = forms[form](address)
    for (const input of [`https://s.example/u/${written}/x`, `/p?utm_source=${written}&ref=${before}`, `${before} ${written} ${after}`]) {
      const output = redactEmails(input)
      if (output.includes(written) || hasEmail(output)) throw new Error(`${JSON.stringify(input)} → ${JSON.stringify(output)}`)
    }
  }), RUNS)
  t.equal(redactEmails('/users/alice@example.com/orders'), '/users/[email]/orders')
  t.equal(redactEmails('/?email=alice.smith%2Bshop%40mail.example.co.uk&x=1'), '/?email=[email]&x=1')
  t.equal(redactEmails('Mail alice@example.com.'), 'Mail [email].', 'a full stop is not part of the domain')
  t.equal(redactEmails('/@scope/package and user@localhost'), '/@scope/package and user@localhost', 'no dot and letters: not an email')
  t.equal(redactEmails('a@b.cc@d.ee'), '[email]@d.ee', 'what is left after a replacement needs its own local part')
  t.equal(redactEmails('/?ref=alice%2540example.com&x=1'), '/?ref=[email]&x=1', 'double-encoded')
  t.equal(redactEmails('/?to=alice%40example%2Ecom'), '/?to=[email]', 'an encoded dot')
  t.equal(redactEmails('/?to=alice%2540example%252ecom'), '/?to=[email]', 'double-encoded dot, lower-case hex')
  t.equal(redactEmails('write alice\uFF20example.com'), 'write [email]', 'a full-width at sign')
  t.equal(redactEmails('100%25 of 40%2540 users'), '100%25 of 40%2540 users', 'no domain: not an email')
})

test('never throws, and returns a string no longer than the input plus one per redaction', async (t) => {
  fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 500 }), url), (input) => {
    for (const query of ['allowlist', 'keep', 'drop'] as const) {
      const output = applyUrlPolicy(input, { ...DEFAULT, query })
      // `[email]` is 7 characters; the shortest email it replaces (`a@b.cd`) is 6.
      const redactions = typeof output === 'string' ? output.split('[email]').length - 1 : 0
      if (typeof output !== 'string' || output.length > input.length + redactions) throw new Error(`${JSON.stringify(input)} → ${JSON.stringify(output)}`)
    }
  }), RUNS)
  t.pass('no counterexample')
})

// Shapes that make a naive scanner or an email regex quadratic.
const HOSTILE: Array<[string, (n: number) => string]> = [
  ['a@a@a@…', (n) => 'a@'.repeat(n)],
  ['a%40a%40…', (n) => 'a%40'.repeat(n)],
  ['aaaa…@', (n) => `${'a'.repeat(n)}@`],
  ['@a.a.a.…', (n) => `x@${'a.'.repeat(n)}`],
  ['a.a.a…@b.cc repeated', (n) => 'a.b@c.dd '.repeat(n / 8)],
  ['%40%40%40…', (n) => '%40'.repeat(n)],
  ['x@b-b-b-…', (n) => `x@${'b-'.repeat(n)}.cc`]
]

test('linear on hostile input: scanner steps per character stay bounded as the input grows 100×', async (t) => {
  for (const [label, make] of HOSTILE) {
    const perChar: number[] = []
    for (const n of [1_000, 100_000]) {
      const input = make(n)
      const before = emailScanMeter.steps
      redactEmails(input)
      perChar.push((emailScanMeter.steps - before) / input.length)
    }
    t.ok(perChar[1] <= 4 && perChar[1] <= perChar[0] * 1.5 + 0.01, `${label}: ${perChar.map((n) => n.toFixed(2)).join(' → ')} steps per character`)
  }
})

test('linear on hostile queries: the filter scans a bounded number of characters per input character', async (t) => {
  // Counted by the filter itself (queryScanMeter): the characters its indexOf scans pass over. A filter
  // that rescanned the rest of the query for each pair (`a&a&a&…` without `=`) would grow with n.
  for (const [label, make, expected] of [
    ['&&&&', (n: number) => `/p?${'&'.repeat(n)}`, () => '/p'],
    ['a&a&a (no =)', (n: number) => `/p?${'a&'.repeat(n / 2)}`, () => '/p'],
    ['ref&ref&', (n: number) => `/p?${'ref&'.repeat(n / 4)}`, (n: number) => `/p?${Array.from({ length: n / 4 }, () => 'ref').join('&')}`],
    ['=====', (n: number) => `/p?${'='.repeat(n)}`, () => '/p'],
    ['x=1&a&a&a…', (n: number) => `/p?x=1${'&a'.repeat(n / 2)}`, () => '/p']
  ] as const) {
    const perChar: number[] = []
    for (const n of [1_000, 100_000]) {
      const input = make(n)
      const before = queryScanMeter.chars
      const output = applyUrlPolicy(input, DEFAULT)
      perChar.push((queryScanMeter.chars - before) / input.length)
      t.equal(output, expected(n), `${label} (${n}): what is left`)
    }
    t.ok(perChar[1] <= 3 && perChar[1] <= perChar[0] * 1.5 + 0.01, `${label}: ${perChar.map((n) => n.toFixed(2)).join(' → ')} characters scanned per character`)
  }
})

test('UrlCleaner: the cleaned referrers it remembers stay bounded in count and length, and give what a fresh cleaner computes', async (t) => {
  const cleaner = new UrlCleaner(DEFAULT)
  const event = (url: string) => ({ url, path: '', referrer: url, eventName: '', actionName: '', properties: {} }) as AnalyticsEvent
  let most = 0
  for (let i = 0; i < CLEAN_CACHE_SIZE * 3; i++) {
    const e = event(`https://shop.example/p/${i % (CLEAN_CACHE_SIZE * 2)}?token=s3cret&utm_source=a`)
    cleaner.apply(e)
    most = Math.max(most, cleaner.size)
    if (i % 997 === 0) {
      const direct = event(`https://shop.example/p/${i % (CLEAN_CACHE_SIZE * 2)}?token=s3cret&utm_source=a`)
      new UrlCleaner(DEFAULT).apply(direct)
      t.same(e, direct, 'remembered or not, the answer is the one computed afresh')
    }
  }
  t.equal(most, CLEAN_CACHE_SIZE, 'never more than CLEAN_CACHE_SIZE values')
  const before = cleaner.size
  const long = `https://shop.example/${'x'.repeat(CLEAN_CACHE_KEY_LENGTH)}?to=bob@example.com`
  const e = event(long)
  cleaner.apply(e)
  t.equal(e.referrer, `https://shop.example/${'x'.repeat(CLEAN_CACHE_KEY_LENGTH)}`, 'a long value is cleaned')
  t.equal(cleaner.size, before, 'and not remembered')
})
