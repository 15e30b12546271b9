import { test } from 'tap'
import { Money, MAX_MONEY_DIGITS } from '../../lib/index.js'

test('fromMinor takes the exponent from Intl: GBP 2, JPY 0, KWD 3', async (t) => {
  const gbp = Money.fromMinor(2999, 'GBP')
  t.equal(gbp.exponent, 2)
  t.equal(gbp.minor, 2999n)
  t.equal(gbp.toDecimalString(), '29.99')
  t.equal(gbp.toNumber(), 29.99)
  t.same(gbp.toJSON(), { amount: '29.99', currency: 'GBP' })
  t.equal(JSON.stringify({ revenue: gbp }), '{"revenue":{"amount":"29.99","currency":"GBP"}}')

  const jpy = Money.fromMinor(500, 'JPY')
  t.equal(jpy.exponent, 0)
  t.equal(jpy.toDecimalString(), '500')

  const kwd = Money.fromMinor(1500, 'KWD')
  t.equal(kwd.exponent, 3)
  t.equal(kwd.toDecimalString(), '1.500')
  t.equal(String(kwd), '1.500 KWD')
})

test('small, negative and huge amounts keep every digit', async (t) => {
  t.equal(Money.fromMinor(5, 'GBP').toDecimalString(), '0.05')
  t.equal(Money.fromMinor(-5, 'GBP').toDecimalString(), '-0.05')
  t.equal(Money.fromMinor(-2999, 'GBP').toDecimalString(), '-29.99')
  t.equal(Money.fromMinor(-7, 'JPY').toDecimalString(), '-7')
  t.equal(Money.fromMinor(0, 'KWD').toDecimalString(), '0.000')
  const huge = Money.fromMinor(123456789012345678901234567890n, 'USD')
  t.equal(huge.toDecimalString(), '1234567890123456789012345678.90')
})

test('fromDecimal parses exactly and refuses more decimals than the currency has', async (t) => {
  t.equal(Money.fromDecimal('29.99', 'GBP').minor, 2999n)
  t.equal(Money.fromDecimal('29.9', 'GBP').minor, 2990n)
  t.equal(Money.fromDecimal('29', 'GBP').minor, 2900n)
  t.equal(Money.fromDecimal('-0.01', 'GBP').minor, -1n)
  t.equal(Money.fromDecimal('1.234', 'KWD').minor, 1234n)
  t.equal(Money.fromDecimal('500', 'JPY').minor, 500n)
  t.throws(() => Money.fromDecimal('29.999', 'GBP'), { code: 'FST_ANALYTICS_INVALID_MONEY' })
  t.throws(() => Money.fromDecimal('5.5', 'JPY'), { code: 'FST_ANALYTICS_INVALID_MONEY' })
  for (const bad of ['', '1e3', '1,00', ' 1', '0x10', 'NaN', '1.', '.5', '--1']) {
    t.throws(() => Money.fromDecimal(bad, 'GBP'), { code: 'FST_ANALYTICS_INVALID_MONEY' }, `refuses ${JSON.stringify(bad)}`)
  }
  t.throws(() => Money.fromDecimal(12 as never, 'GBP'), { code: 'FST_ANALYTICS_INVALID_MONEY' })
})

test('a number given to fromDecimal is refused with the fix, not as "not a decimal amount like 29.99" (issue 26)', async (t) => {
  t.throws(() => Money.fromDecimal(29.99 as never, 'GBP'), {
    code: 'FST_ANALYTICS_INVALID_MONEY',
    message: /amount must be a string like "29\.99", got a number: pass Money\.fromDecimal\("29\.99", …\), or integer minor units to Money\.fromMinor/
  })
  t.throws(() => Money.fromDecimal(undefined as never, 'GBP'), { message: /string like "29\.99", got a undefined/ })
})

test('a lower-case currency code is refused with the upper-case code it meant (issue 26)', async (t) => {
  t.throws(() => Money.fromMinor(1, 'gbp'), { code: 'FST_ANALYTICS_INVALID_MONEY', message: /"gbp" is not an ISO 4217 currency code this runtime knows: currency codes are upper case, "GBP"/ })
  t.throws(() => Money.fromDecimal('1.00', 'Eur'), { message: /upper case, "EUR"/ })
  t.throws(() => Money.fromMinor(1, 'zzz'), { message: /^(?!.*upper case)/ }, 'no hint when the upper-case code is unknown too')
})

test('bad currencies and non-integer minors throw FST_ANALYTICS_INVALID_MONEY', async (t) => {
  for (const currency of ['gbp', 'XXXX', '', 'ZZZ', '£']) {
    t.throws(() => Money.fromMinor(1, currency), { code: 'FST_ANALYTICS_INVALID_MONEY' }, `refuses ${currency}`)
  }
  t.throws(() => Money.fromMinor(1, 42 as never), { code: 'FST_ANALYTICS_INVALID_MONEY' })
  for (const minor of [1.5, Number.NaN, Infinity, 2 ** 60, '12' as never]) {
    t.throws(() => Money.fromMinor(minor, 'GBP'), { code: 'FST_ANALYTICS_INVALID_MONEY' }, `refuses ${String(minor)}`)
  }
})

test('Money is immutable and recognisable', async (t) => {
  const money = Money.fromMinor(1, 'EUR')
  t.ok(Object.isFrozen(money))
  t.ok(Money.isMoney(money))
  t.notOk(Money.isMoney({ minor: 1n, currency: 'EUR' }))
})

test(`an amount beyond ${MAX_MONEY_DIGITS} digits of minor units throws FST_ANALYTICS_INVALID_MONEY, at no cost`, async (t) => {
  const largest = 10n ** BigInt(MAX_MONEY_DIGITS) - 1n
  t.equal(Money.fromMinor(largest, 'USD').minor, largest)
  t.equal(Money.fromMinor(-largest, 'USD').minor, -largest)
  t.throws(() => Money.fromMinor(largest + 1n, 'USD'), { code: 'FST_ANALYTICS_INVALID_MONEY' })
  t.throws(() => Money.fromMinor(-largest - 1n, 'USD'), { code: 'FST_ANALYTICS_INVALID_MONEY' })
  // 30 whole digits and 2 decimals: 32 digits of cents.
  t.throws(() => Money.fromDecimal(`${'9'.repeat(30)}.99`, 'USD'), { code: 'FST_ANALYTICS_INVALID_MONEY' })
  t.equal(Money.fromDecimal(`${'9'.repeat(28)}.99`, 'USD').minor, largest)
  // A million digits: refused by a comparison, never serialised (it cost 160 ms per collector).
  t.throws(() => Money.fromMinor(10n ** 1_000_000n, 'USD'), { code: 'FST_ANALYTICS_INVALID_MONEY' })
})
