// attribute(): every GA4 channel reached from a real referrer or a real campaign URL, and the
// source/medium/campaign fields that go with it.
import { test } from 'tap'
import { attribute, DIRECT, MAX_CAMPAIGN_VALUE_LENGTH, type Attribution, type Channel } from '../../lib/attribution/index.js'

const SITE = 'shop.example'

interface Case {
  url: string
  referrer: string
  channel: Channel
  source: string
  medium: string
  clickId?: Attribution['clickId']
}

const CHANNELS: Array<[string, Case]> = [
  ['Google results page', { url: '/', referrer: 'https://www.google.com/', channel: 'Organic Search', source: 'Google', medium: 'organic' }],
  ['Google on a country domain', { url: '/a', referrer: 'https://www.google.co.uk/', channel: 'Organic Search', source: 'Google', medium: 'organic' }],
  ['Bing', { url: '/', referrer: 'https://www.bing.com/', channel: 'Organic Search', source: 'Bing', medium: 'organic' }],
  ['DuckDuckGo', { url: '/', referrer: 'https://duckduckgo.com/', channel: 'Organic Search', source: 'DuckDuckGo', medium: 'organic' }],
  ['a portal with a Google search box, with its keyword', { url: '/', referrer: 'https://www.cnn.com/search?query=shoes', channel: 'Organic Search', source: 'Google', medium: 'organic' }],
  ['google cpc with gclid', { url: '/?gclid=Cj0KCQ&utm_source=google&utm_medium=cpc&utm_campaign=winter', referrer: 'https://www.google.com/', channel: 'Paid Search', source: 'google', medium: 'cpc', clickId: 'google' }],
  ['an auto-tagged ad click, Google referrer', { url: '/?gclid=Cj0KCQ', referrer: 'https://www.google.com/', channel: 'Paid Search', source: 'Google', medium: 'cpc', clickId: 'google' }],
  ['an auto-tagged ad click, referrer withheld', { url: '/?gbraid=0AAAA', referrer: '', channel: 'Paid Search', source: 'Google', medium: 'cpc', clickId: 'google' }],
  ['a Microsoft Ads click', { url: '/?msclkid=abc', referrer: '', channel: 'Paid Search', source: 'Bing', medium: 'cpc', clickId: 'microsoft' }],
  ['facebook.com', { url: '/', referrer: 'https://www.facebook.com/', channel: 'Organic Social', source: 'Facebook', medium: 'referral' }],
  ['Facebook link shim', { url: '/?fbclid=IwAR0', referrer: 'https://l.facebook.com/l.php?u=x', channel: 'Organic Social', source: 'Facebook', medium: 'referral', clickId: 'meta' }],
  ['t.co', { url: '/', referrer: 'https://t.co/abc', channel: 'Organic Social', source: 'Twitter', medium: 'referral' }],
  ['paid_social on facebook', { url: '/?utm_source=facebook&utm_medium=paid_social', referrer: '', channel: 'Paid Social', source: 'facebook', medium: 'paid_social' }],
  ['cpc on linkedin', { url: '/?utm_source=LinkedIn&utm_medium=cpc&li_fat_id=1', referrer: '', channel: 'Paid Social', source: 'LinkedIn', medium: 'cpc', clickId: 'linkedin' }],
  ['a TikTok ad click', { url: '/?ttclid=E.C.P', referrer: '', channel: 'Paid Social', source: 'TikTok', medium: 'cpc', clickId: 'tiktok' }],
  ['email', { url: '/?utm_source=newsletter&utm_medium=email&utm_campaign=december', referrer: '', channel: 'Email', source: 'newsletter', medium: 'email' }],
  ['e-mail as the source', { url: '/?utm_source=e-mail', referrer: '', channel: 'Email', source: 'e-mail', medium: '(not set)' }],
  ['chatgpt.com', { url: '/', referrer: 'https://chatgpt.com/', channel: 'AI Assistants', source: 'ChatGPT', medium: 'referral' }],
  ['ChatGPT\'s own utm_source', { url: '/?utm_source=chatgpt.com', referrer: '', channel: 'AI Assistants', source: 'chatgpt.com', medium: '(not set)' }],
  ['Perplexity', { url: '/', referrer: 'https://www.perplexity.ai/', channel: 'AI Assistants', source: 'Perplexity', medium: 'referral' }],
  ['Gemini (a Google subdomain)', { url: '/', referrer: 'https://gemini.google.com/', channel: 'AI Assistants', source: 'Gemini', medium: 'referral' }],
  ['a plain site', { url: '/', referrer: 'https://www.blog.example.org/post/1', channel: 'Referral', source: 'blog.example.org', medium: 'referral' }],
  ['a Google product that is not search', { url: '/', referrer: 'https://docs.google.com/document/d/1', channel: 'Referral', source: 'docs.google.com', medium: 'referral' }],
  ['a portal with a Google search box, origin only', { url: '/', referrer: 'https://www.cnn.com/', channel: 'Referral', source: 'cnn.com', medium: 'referral' }],
  ['a ref tag', { url: '/?ref=producthunt', referrer: '', channel: 'Referral', source: 'producthunt', medium: 'referral' }],
  ['affiliate', { url: '/?utm_source=partner-42&utm_medium=affiliate', referrer: 'https://partner.example.net/', channel: 'Affiliates', source: 'partner-42', medium: 'affiliate' }],
  ['display', { url: '/?utm_source=adnetwork&utm_medium=banner', referrer: '', channel: 'Display', source: 'adnetwork', medium: 'banner' }],
  ['paid video', { url: '/?utm_source=youtube&utm_medium=cpv', referrer: '', channel: 'Paid Video', source: 'youtube', medium: 'cpv' }],
  ['organic video', { url: '/', referrer: 'https://www.youtube.com/', channel: 'Organic Video', source: 'YouTube', medium: 'referral' }],
  ['video medium', { url: '/?utm_source=webinar-host&utm_medium=video', referrer: '', channel: 'Organic Video', source: 'webinar-host', medium: 'video' }],
  ['paid shopping', { url: '/?utm_source=amazon&utm_medium=ppc', referrer: '', channel: 'Paid Shopping', source: 'amazon', medium: 'ppc' }],
  ['paid shopping by campaign name', { url: '/?utm_source=google&utm_medium=cpc&utm_campaign=Shopping_Q4', referrer: '', channel: 'Paid Shopping', source: 'google', medium: 'cpc' }],
  ['organic shopping', { url: '/', referrer: 'https://www.amazon.de/', channel: 'Organic Shopping', source: 'Amazon', medium: 'referral' }],
  ['paid other', { url: '/?utm_source=somenetwork&utm_medium=paid', referrer: '', channel: 'Paid Other', source: 'somenetwork', medium: 'paid' }],
  ['sms', { url: '/?utm_source=twilio&utm_medium=sms', referrer: '', channel: 'SMS', source: 'twilio', medium: 'sms' }],
  ['push', { url: '/?utm_source=onesignal&utm_medium=web_push', referrer: '', channel: 'Mobile Push Notifications', source: 'onesignal', medium: 'web_push' }],
  ['firebase', { url: '/?utm_source=firebase&utm_medium=inapp', referrer: '', channel: 'Mobile Push Notifications', source: 'firebase', medium: 'inapp' }],
  ['audio', { url: '/?utm_source=spotify-ads&utm_medium=audio', referrer: '', channel: 'Audio', source: 'spotify-ads', medium: 'audio' }],
  ['cross-network', { url: '/?utm_source=google&utm_medium=cpc&utm_campaign=pmax-cross-network', referrer: '', channel: 'Cross-network', source: 'google', medium: 'cpc' }],
  ['an unknown utm_medium', { url: '/?utm_source=partner&utm_medium=qr-flyer', referrer: '', channel: 'Unassigned', source: 'partner', medium: 'qr-flyer' }],
  ['a same-site referrer', { url: '/b', referrer: `https://${SITE}/a`, channel: 'Direct', source: '(direct)', medium: '(none)' }],
  ['the www twin of the site', { url: '/b', referrer: `https://www.${SITE}/a?x=1`, channel: 'Direct', source: '(direct)', medium: '(none)' }],
  ['no referrer', { url: '/', referrer: '', channel: 'Direct', source: '(direct)', medium: '(none)' }]
]

test('every channel from a real referrer or campaign', async (t) => {
  const seen = new Set<Channel>()
  for (const [name, expected] of CHANNELS) {
    const got = attribute(expected.url, expected.referrer, SITE)
    t.match(got, { channel: expected.channel, source: expected.source, medium: expected.medium, clickId: expected.clickId ?? '' }, name)
    seen.add(got.channel)
  }
  const all: Channel[] = ['Direct', 'Organic Search', 'Paid Search', 'Organic Social', 'Paid Social', 'Email', 'Referral',
    'AI Assistants', 'Affiliates', 'Display', 'Organic Video', 'Paid Video', 'Organic Shopping', 'Paid Shopping', 'Paid Other',
    'Cross-network', 'SMS', 'Mobile Push Notifications', 'Audio', 'Unassigned']
  t.same(all.filter((channel) => !seen.has(channel)), [], 'no channel left untested')
})

test('no campaign and no external referrer is the one frozen DIRECT', async (t) => {
  t.equal(attribute('/', '', SITE), DIRECT)
  t.equal(attribute('/products?page=2&sort=price', `https://${SITE}/products`, SITE), DIRECT, 'a query without campaign, same-site referrer')
  t.equal(attribute('/', 'https://SHOP.EXAMPLE:8443/', 'Shop.Example'), DIRECT, 'host case and port do not make the site external')
  t.equal(attribute('/', 'not a url', SITE), DIRECT, 'an unreadable Referer')
  t.equal(attribute('/', 'about:blank', SITE), DIRECT)
  t.ok(Object.isFrozen(DIRECT))
  t.not(attribute('/', `https://${SITE}.evil.example/`, SITE), DIRECT, 'a host that only starts with the site is external')
  t.not(attribute('/', `https://evil.example/${SITE}`, SITE), DIRECT)
})

test('UTM names are case-insensitive, values kept as given and trimmed; the first non-empty one wins', async (t) => {
  const got = attribute('/?UTM_Source=%20Newsletter%20&utm_medium=&Utm_Medium=Email&utm_campaign=Winter%20Sale&utm_term=red+shoes&utm_content=hero&utm_campaign=second', '', SITE)
  t.same({ ...got }, { channel: 'Email', source: 'Newsletter', medium: 'Email', campaign: 'Winter Sale', term: 'red shoes', content: 'hero', clickId: '' })
  t.ok(Object.isFrozen(got))
})

test('utm_source wins over ref and source; ref over source; the referrer fills what the campaign leaves out', async (t) => {
  t.equal(attribute('/?ref=a&source=b&utm_source=c', '', SITE).source, 'c')
  t.equal(attribute('/?source=b&ref=a', '', SITE).source, 'a')
  t.equal(attribute('/?source=b', '', SITE).source, 'b')
  t.match(attribute('/?utm_campaign=spring', 'https://www.google.com/', SITE), { channel: 'Organic Search', source: 'Google', medium: 'organic', campaign: 'spring' })
  t.match(attribute('/?utm_campaign=spring', '', SITE), { channel: 'Direct', source: '(direct)', medium: '(none)', campaign: 'spring' }, 'a campaign typed in')
})

test('every click id names its network; the first in the query wins', async (t) => {
  const ids: Array<[string, Attribution['clickId']]> = [['gclid', 'google'], ['gbraid', 'google'], ['wbraid', 'google'],
    ['msclkid', 'microsoft'], ['fbclid', 'meta'], ['ttclid', 'tiktok'], ['li_fat_id', 'linkedin'], ['twclid', 'x'], ['GCLID', 'google']]
  for (const [param, network] of ids) t.equal(attribute(`/?${param}=x1`, '', SITE).clickId, network, param)
  t.equal(attribute('/?fbclid=1&gclid=2', '', SITE).clickId, 'meta')
  t.equal(attribute('/?gclid=', '', SITE), DIRECT, 'an empty click id is none')
  t.equal(attribute('/?constructor=1&__proto__=2', '', SITE), DIRECT, 'prototype names are not click ids')
  t.match(attribute('/?twclid=1', '', SITE), { channel: 'Organic Social', source: 'Twitter', medium: 'referral' }, 'twclid alone is not paid')
})

test('campaign values are capped at MAX_CAMPAIGN_VALUE_LENGTH code points without splitting a surrogate pair, and carry no NUL or lone surrogate', async (t) => {
  const long = 'x'.repeat(MAX_CAMPAIGN_VALUE_LENGTH + 50)
  t.equal(attribute(`/?utm_source=s&utm_campaign=${long}`, '', SITE).campaign.length, MAX_CAMPAIGN_VALUE_LENGTH)
  const emoji = 'a'.repeat(MAX_CAMPAIGN_VALUE_LENGTH - 1) + '😀'.repeat(3)
  const cut = attribute(`/?utm_source=s&utm_term=${encodeURIComponent(emoji)}`, '', SITE).term
  t.equal(cut, 'a'.repeat(MAX_CAMPAIGN_VALUE_LENGTH - 1) + '😀', 'code points, not UTF-16 units: the pair is kept whole, the rest cut')
  t.equal(attribute('/?utm_source=s&utm_campaign=a%00b', '', SITE).campaign, 'ab', 'a percent-encoded NUL is removed')
  t.equal(attribute('/?utm_source=s&utm_campaign=a%ED%A0%80b', '', SITE).campaign, 'a\uFFFD\uFFFD\uFFFDb', 'bytes that are no UTF-8 decode to U+FFFD')
})

test('absolute request URLs and fragments are read like paths', async (t) => {
  t.match(attribute('https://shop.example/landing?utm_source=x-partner&utm_medium=affiliate#top', '', SITE), { channel: 'Affiliates', source: 'x-partner' })
  t.equal(attribute('/landing#?utm_source=x', '', SITE), DIRECT, 'a ? inside the fragment is no query')
})

test('a ref or source tag on a link between the site\'s own pages is Direct; a real campaign there still counts', async (t) => {
  t.equal(attribute('/docs?ref=navbar', `https://${SITE}/`, SITE), DIRECT)
  t.equal(attribute('/docs?source=footer', `https://www.${SITE}/pricing`, SITE), DIRECT, 'from the www. twin')
  t.match(attribute('/docs?ref=newsletter', '', SITE), { source: 'newsletter', medium: 'referral' }, 'without a referrer it is a campaign')
  t.match(attribute('/docs?utm_source=banner&utm_medium=display', `https://${SITE}/`, SITE), { channel: 'Display', source: 'banner' })
})

test('a buyer back from a payment page continues the visit: no payment provider is credited with a checkout', async (t) => {
  t.equal(attribute('/thanks', 'https://checkout.stripe.com/c/pay/cs_live_1', SITE), DIRECT)
  t.equal(attribute('/thanks', 'https://www.paypal.com/checkoutnow?token=1', SITE), DIRECT)
  t.match(attribute('/thanks?utm_source=mail&utm_medium=email', 'https://checkout.stripe.com/', SITE), { channel: 'Email' }, 'a real campaign still counts')
  t.match(attribute('/', 'https://notstripe.com/', SITE), { channel: 'Referral', source: 'notstripe.com' }, 'only the provider and its subdomains')
})

test('the same external referrer gives the same answer from the memo', async (t) => {
  const first = attribute('/', 'https://www.facebook.com/groups/1', SITE)
  const second = attribute('/x', 'https://www.facebook.com/groups/2', SITE)
  t.same({ ...second }, { ...first })
  // The memo is keyed by origin; the same-site rule still depends on each request's host.
  t.equal(attribute('/', 'https://www.facebook.com/', 'facebook.com'), DIRECT, 'facebook.com\'s own pages')
})

test('how referrer hosts match the lists', async (t) => {
  const cases: Array<[string, Channel, string]> = [
    ['https://www.google.com.br/', 'Organic Search', 'Google'], // `google.{}` with a two-label top-level domain
    ['https://google.de', 'Organic Search', 'Google'],
    ['https://www.google.com./', 'Organic Search', 'Google'], // a trailing root dot
    ['https://cc.bing.com/', 'Organic Search', 'Bing'], // a `{}.bing.com` pattern
    ['android-app://com.google.android.googlequicksearchbox/https/www.google.com', 'Organic Search', 'Google'],
    ['https://uk.search.yahoo.com/', 'Organic Search', 'Yahoo!'],
    ['https://www.yahoo.com/', 'Referral', 'yahoo.com'], // the portal is not its search engine
    ['https://search.brave.com/', 'Organic Search', 'Brave'], // origin-only, listed in sources.ts
    ['https://old.reddit.com/r/node/', 'Organic Social', 'reddit'], // a subdomain of a social network
    ['https://www.linkedin.com/feed/', 'Organic Social', 'LinkedIn'],
    ['https://youtu.be/abc', 'Organic Video', 'YouTube'],
    ['https://smile.amazon.co.uk/', 'Organic Shopping', 'Amazon'],
    // A listed name under someone else's domain is that domain, not the listed source.
    ['https://google.evil.com/', 'Referral', 'google.evil.com'],
    ['https://google.github.io/', 'Referral', 'google.github.io'],
    ['https://amazon.awsapps.com/', 'Referral', 'amazon.awsapps.com'],
    ['https://user:secret@news.example.net:8443/a', 'Referral', 'news.example.net'],
    ['https://EXAMPLE.net/', 'Referral', 'example.net']
  ]
  for (const [referrer, channel, source] of cases) t.match(attribute('/', referrer, SITE), { channel, source }, referrer)
  t.equal(attribute('/', 'https://exa mple.net/', SITE), DIRECT, 'a host no browser sends is no source')
  t.equal(attribute('/', 'https://bücher.example/', SITE), DIRECT, 'browsers send hosts in ASCII (punycode)')
})

test('a utm_source is classified by name, host or short spelling, without case', async (t) => {
  const cases: Array<[string, Channel]> = [
    ['Google', 'Paid Search'], ['bing', 'Paid Search'], ['www.facebook.com', 'Paid Social'], ['m.facebook.com', 'Paid Social'],
    ['fb', 'Paid Social'], ['IG', 'Paid Social'], ['yt', 'Paid Video'], ['ebay.de', 'Paid Shopping'], ['unknown-network', 'Paid Other']
  ]
  for (const [source, channel] of cases) t.equal(attribute(`/?utm_source=${source}&utm_medium=cpc`, '', SITE).channel, channel, source)
})
