// isReferrerSpam(): Matomo's referrer-spam-list, a listed domain and every subdomain of one.
import { test } from 'tap'
import { isReferrerSpam } from '../../lib/attribution/index.js'
import { SPAM_DOMAINS } from '../../lib/attribution/data/spam.js'

test('a listed domain and its subdomains are spam, in any case, with a port, path or user info', async (t) => {
  t.ok(SPAM_DOMAINS.includes('\n0n-line.tv\n'), 'the fixture domain is on the vendored list')
  t.ok(isReferrerSpam('https://0n-line.tv/'))
  t.ok(isReferrerSpam('http://0n-line.tv'))
  t.ok(isReferrerSpam('https://free.traffic.0n-line.tv:8080/offer?x=1'), 'a subdomain of a listed domain')
  t.ok(isReferrerSpam('https://WWW.0N-LINE.TV/'), 'host case')
  t.ok(isReferrerSpam('https://user:pw@0n-line.tv/'), 'user info before the host')
  t.ok(isReferrerSpam('https://0n-line.tv./'), 'a trailing root dot')
})

test('other hosts are not spam, including ones that only end with a listed name', async (t) => {
  t.notOk(isReferrerSpam(''))
  t.notOk(isReferrerSpam('https://www.google.com/'))
  t.notOk(isReferrerSpam('https://my0n-line.tv/'), 'a label boundary is required')
  t.notOk(isReferrerSpam('https://example.com/?from=0n-line.tv'), 'the name in the query')
  t.notOk(isReferrerSpam('https://example.com/0n-line.tv'), 'the name in the path')
  t.notOk(isReferrerSpam('0n-line.tv'), 'not a URL')
  t.notOk(isReferrerSpam('https://tv/'), 'a bare top-level domain')
})

test('every vendored domain is found', async (t) => {
  const domains = SPAM_DOMAINS.split('\n').filter((line) => line !== '')
  t.ok(domains.length > 2000, `${domains.length} domains`)
  t.same(domains.filter((domain) => !isReferrerSpam(`https://${domain}/`)), [])
})
