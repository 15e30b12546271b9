// fast-check generators for what visitors and application code can throw at the plugin.
import fc from 'fast-check'
import { Money } from '../../lib/money.js'

/** One megabyte of text, built once. */
export const MEGABYTE = 'é'.repeat(512 * 1024)

/** Strings that have broken serialisers, header writers and naive truncation before. */
export const NASTY_STRINGS = [
  '', ' ', '\t', '\r\nX-Evil: 1', 'a\rb', 'a\nb', '\u0000', '\u0007bell', '\u007f', '\u0085', '\u2028\u2029',
  '\ud800', '\udfff', 'a\ud83d', '\ude00b', '😀'.repeat(5), 'é', 'ÿ', 'Ā', '\ufeff', '\ufffe',
  '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'valueOf',
  'value', 'currency', 'session_id', 'engagement_time_msec', 'page_location', 'ga_x', 'google_y', 'firebase_z',
  'data:text/html,<script>alert(1)</script>', 'javascript:alert(1)', '%', '%E', '%E2%82', '../../etc/passwd',
  '{"json":true}', '"quoted"', '\\', '</script>', 'x'.repeat(5000), '1'.repeat(400), '-'.repeat(300)
]

/** Any text: random code points (lone surrogates included), known troublemakers, or a megabyte. */
export const text: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }) },
  { weight: 3, arbitrary: fc.constantFrom(...NASTY_STRINGS) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...NASTY_STRINGS), { maxLength: 6 }).map((parts) => parts.join('')) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 2000, maxLength: 3000 }) },
  { weight: 1, arbitrary: fc.constant(MEGABYTE) }
)

/** Whatever a property value can be: the allowed types and everything else. */
export const propertyValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, 5e-324)) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 2, arbitrary: fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withNullPrototype: true, withTypedArray: true, withSparseArray: true, withBoxedValues: true }) },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, Symbol('s'), () => 'fn', new Date(Number.NaN)) }
)

/** An object with these own keys, `__proto__` and `constructor` included as plain own data. */
function objectOf (entries: Array<[string, unknown]>): Record<string, unknown> {
  const object: Record<string, unknown> = {}
  for (const [key, value] of entries) Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true })
  return object
}

/** Thousands of keys, built once per size. */
const manyKeys = (n: number): Record<string, unknown> => objectOf(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]))
const THOUSANDS = [manyKeys(1000), manyKeys(5000)]

export const properties: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: fc.array(fc.tuple(text, propertyValue), { maxLength: 80 }).map(objectOf) },
  { weight: 1, arbitrary: fc.constantFrom(...THOUSANDS) },
  { weight: 1, arbitrary: fc.constant(JSON.parse('{"__proto__":"p","constructor":"c","prototype":"q","toString":"t"}') as unknown) },
  { weight: 1, arbitrary: fc.anything() }
)

export const currency: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom('GBP', 'JPY', 'KWD', 'CLF', 'XAU', 'XXX', 'BTC', 'gbp', 'GB', 'GBPP', '', 'ZZZ', 'EUR\u0000', '€'),
  fc.constantFrom(...Intl.supportedValuesOf('currency')),
  fc.string({ maxLength: 5 }),
  fc.anything()
)

/** What building a Money from these gives: the Money, or the error it threw. */
export type MoneyAttempt = { money: Money } | { error: unknown }

function attempt (build: () => Money): MoneyAttempt {
  try {
    return { money: build() }
  } catch (error) {
    return { error }
  }
}

export const minorAmount: fc.Arbitrary<unknown> = fc.oneof(
  fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }),
  fc.constantFrom(2n ** 63n, -(2n ** 63n), 10n ** 400n, 0n, -1n),
  fc.integer(),
  fc.double(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, -0, 0.5),
  fc.anything()
)

export const decimalAmount: fc.Arbitrary<unknown> = fc.oneof(
  fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 30n - 1n }), fc.option(fc.stringMatching(/^\d{1,4}$/))).map(([negative, whole, fraction]) =>
    `${negative ? '-' : ''}${whole}${fraction === null ? '' : `.${fraction}`}`),
  fc.constantFrom('29.99', '0', '-0.01', '1e5', '1.', '.5', '+1', ' 1', '1_000', 'NaN', 'Infinity', '0x10', '１２', '9'.repeat(31), '1.' + '0'.repeat(31)),
  fc.string(),
  fc.anything()
)

export const moneyAttempt: fc.Arbitrary<MoneyAttempt> = fc.oneof(
  fc.tuple(minorAmount, currency).map(([minor, code]) => attempt(() => Money.fromMinor(minor as number, code as string))),
  fc.tuple(decimalAmount, currency).map(([amount, code]) => attempt(() => Money.fromDecimal(amount as string, code as string)))
)

/** A revenue as the app might pass it: a Money, or anything else. */
export const revenue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: moneyAttempt.map((a) => 'money' in a ? a.money : undefined) },
  { weight: 1, arbitrary: fc.record({ amount: fc.anything(), currency: fc.anything(), minor: fc.anything() }) },
  { weight: 1, arbitrary: fc.anything() }
)

/** A Date anywhere in the Date range (years -271821 to 275760), an invalid one, or not a Date. */
export const timestamp: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 2, arbitrary: fc.date({ noInvalidDate: false }) },
  { weight: 6, arbitrary: fc.date({ min: new Date(Date.now() - 100 * 3_600_000), max: new Date(Date.now() + 3_600_000) }) },
  { weight: 1, arbitrary: fc.constantFrom(new Date(-62198755200000), new Date(253402300800000), new Date(0), new Date('9999-12-31T23:59:59.999Z')) },
  { weight: 1, arbitrary: fc.anything() }
)

// Mostly values of the right type, so most events are accepted and reach the destinations.
const field = fc.oneof({ weight: 12, arbitrary: text }, { weight: 1, arbitrary: fc.anything() })
const number = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 1_000_000 }) },
  { weight: 2, arbitrary: fc.double({ min: 0, max: 1e6, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(200.5, 1e308, -1, Number.NaN, Infinity) },
  { weight: 1, arbitrary: fc.anything() }
)

/** What `track()` may be handed by application code. */
export const eventInput: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('pageview', 'action', 'custom') }, { weight: 1, arbitrary: fc.anything() }),
      eventName: field,
      actionName: field,
      timestamp,
      clientIP: field,
      locale: field,
      hostname: field,
      userId: field,
      matchedPattern: field,
      url: field,
      path: field,
      method: field,
      userAgent: field,
      referrer: field,
      durationMs: number,
      statusCode: number,
      properties,
      revenue
    }, { requiredKeys: ['type'] }).chain((input) => fc.nat(3).map((roll) => {
      // A page view or an action given a name is refused (the types' rule, held at run time too): keep
      // such inputs one time in four, so most random inputs still reach the checks after that one.
      if (roll === 0 || input.type === 'custom') return input
      const { eventName: _name, ...rest } = input
      if (input.type !== 'pageview') return rest
      const { actionName: _action, ...pageview } = rest
      return pageview
    }))
  },
  { weight: 1, arbitrary: fc.anything() }
)

/** A header value a client can send (through app.inject, which passes any string as is). */
export const headerValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: text.filter((s) => s.length < 20_000) },
  { weight: 1, arbitrary: fc.constantFrom('Mozilla/5.0\r\nX-Evil: 1', 'ua\nSet-Cookie: a=b', 'ua\u0000nul', 'ua\u0085nel', 'ua\u2028ls', 'ua😀é', 'ua\ud800') }
)

export const ipv4: fc.Arbitrary<string> = fc.ipV4()
export const anyIp: fc.Arbitrary<string> = fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended())

/** An X-Forwarded-For value a client can forge. */
export const forgedForwardedFor: fc.Arbitrary<string> = fc.array(
  fc.oneof(anyIp, text.filter((s) => s.length < 100), fc.constantFrom('127.0.0.1', 'unknown', '', ' ', '::1', 'fe80::1%eth0')),
  { minLength: 1, maxLength: 8 }
).map((parts) => parts.join(', '))

/** A Cookie header, with `_ga` / `_ga_<stream>` cookies that may be forged or hostile. */
export const cookieHeader: fc.Arbitrary<string> = fc.array(fc.oneof(
  fc.tuple(fc.constantFrom('_ga', '_ga_HOSTILE1', '_gid', 'session', '_ga '), fc.oneof(
    fc.constantFrom('GA1.1.1234567890.1700000000', 'GA1.2.1.1', 'GS2.1.s1700000000$o1$g1', 'GS1.1.1700000000.1.1', 'GA1.1.' + '9'.repeat(25) + '.1'),
    fc.stringMatching(/^GA\d\.\d\.\d{1,22}\.\d{1,22}$/),
    fc.stringMatching(/^GS[12]\.\d\.s?\d{1,20}[.$].*$/),
    text.filter((s) => s.length < 500)
  )).map(([name, value]) => `${name}=${value}`),
  text.filter((s) => s.length < 200)
), { maxLength: 12 }).map((parts) => parts.join('; '))
