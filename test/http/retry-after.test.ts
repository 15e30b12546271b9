import { test } from 'tap'
import { parseRetryAfter } from '../../lib/http/retry-after.js'

const NOW = Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')

test('delay-seconds', async (t) => {
  t.equal(parseRetryAfter('120', NOW), 120_000)
  t.equal(parseRetryAfter(' 1 ', NOW), 1000)
  t.equal(parseRetryAfter('0', NOW), 0)
  t.equal(parseRetryAfter(['2', '5'], NOW), 2000, 'a repeated header: the first value')
})

test('HTTP-date in all three forms, relative to now', async (t) => {
  t.equal(parseRetryAfter('Wed, 21 Oct 2015 07:28:30 GMT', NOW), 30_000, 'IMF-fixdate')
  t.equal(parseRetryAfter('Wednesday, 21-Oct-15 07:28:10 GMT', NOW), 10_000, 'RFC 850')
  t.equal(parseRetryAfter('Wed Oct 21 07:28:05 2015', NOW), 5000, 'asctime is GMT, not local time')
})

test('a date in the past means now', async (t) => {
  t.equal(parseRetryAfter('Wed, 21 Oct 2015 07:00:00 GMT', NOW), 0)
})

test('garbage, negative and missing values are ignored', async (t) => {
  for (const value of ['', 'soon', '-5', '1.5', '12abc', 'Wed, 99 Foo 2015', '2015-10-21', 'Mon', '99999999999']) {
    t.equal(parseRetryAfter(value, NOW), undefined, JSON.stringify(value))
  }
  t.equal(parseRetryAfter(undefined, NOW), undefined)
  t.equal(parseRetryAfter([], NOW), undefined)
})
