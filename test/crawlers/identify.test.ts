import { test } from 'tap'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { isbot } from 'isbot'
import { parseUserAgent, parsedPart } from '../../lib/client.js'
import { CRAWLER_PURPOSES, crawlerFor, identifyCrawler } from '../../lib/crawlers/index.js'
import { KNOWN_CRAWLERS } from '../../lib/crawlers/catalogue.js'
import { CRAWLER_PATTERNS, PATTERN_DATA_SOURCE } from '../../lib/crawlers/data/patterns.js'

interface Entry { pattern: string, instances: string[], tags?: string[] }
const ENTRIES = createRequire(import.meta.url)('crawler-user-agents') as Entry[]

// Hand-checked against each operator's page about its crawler (docs/crawlers.md links them).
const AI_CRAWLERS: Array<[ua: string, name: string, operator: string, purpose: string]> = [
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.1; +https://openai.com/gptbot)', 'GPTBot', 'OpenAI', 'ai-training'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; ChatGPT-User/1.0; +https://openai.com/bot', 'ChatGPT-User', 'OpenAI', 'ai-assistant'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko); compatible; OAI-SearchBot/1.0; +https://openai.com/searchbot', 'OAI-SearchBot', 'OpenAI', 'ai-search'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; ClaudeBot/1.0; +claudebot@anthropic.com)', 'ClaudeBot', 'Anthropic', 'ai-training'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Claude-User/1.0; +Claude-User@anthropic.com)', 'Claude-User', 'Anthropic', 'ai-assistant'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Claude-SearchBot/1.0; +Claude-SearchBot@anthropic.com)', 'Claude-SearchBot', 'Anthropic', 'ai-search'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; PerplexityBot/1.0; +https://perplexity.ai/perplexitybot)', 'PerplexityBot', 'Perplexity', 'ai-search'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Perplexity-User/1.0; +https://perplexity.ai/perplexity-user)', 'Perplexity-User', 'Perplexity', 'ai-assistant'],
  ['meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)', 'Meta-ExternalAgent', 'Meta', 'ai-training'],
  ['Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) Mobile Safari/537.36 (compatible; Bytespider; spider-feedback@bytedance.com)', 'Bytespider', 'ByteDance', 'ai-training'],
  ['CCBot/2.0 (https://commoncrawl.org/faq/)', 'CCBot', 'Common Crawl', 'ai-training'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Amazonbot/0.1; +https://developer.amazon.com/support/amazonbot) Chrome/119.0.6045.214 Safari/537.36', 'Amazonbot', 'Amazon', 'ai-search'],
  ['DuckAssistBot/1.2; (+http://duckduckgo.com/duckassistbot.html)', 'DuckAssistBot', 'DuckDuckGo', 'ai-assistant'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; MistralAI-User/1.0; +https://docs.mistral.ai/robots)', 'MistralAI-User', 'Mistral AI', 'ai-assistant'],
  // And the search engines and tools the issue names.
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Googlebot/2.1; +http://www.google.com/bot.html) Chrome/120.0.6099.199 Safari/537.36', 'Googlebot', 'Google', 'search'],
  ['Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36', 'Bingbot', 'Microsoft', 'search'],
  ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)', 'Applebot', 'Apple', 'search'],
  ['Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)', 'AhrefsBot', 'Ahrefs', 'seo'],
  ['Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)', 'UptimeRobot', 'UptimeRobot', 'monitoring'],
  ['facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', 'facebookexternalhit', 'Meta', 'preview'],
  ['Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)', 'Slackbot', 'Slack', 'preview'],
  ['Feedly/1.0 (+http://www.feedly.com/fetcher.html; 42 subscribers; like FeedFetcher-Google)', 'Feedly', 'Feedly', 'feed'],
  ['Mozilla/5.0 (compatible; archive.org_bot +http://archive.org/details/archive.org_bot)', 'archive.org_bot', 'Internet Archive', 'archive'],
  ['Mozilla/5.0 (compatible; CensysInspect/1.1; +https://about.censys.io/)', 'CensysInspect', 'Censys', 'scanner'],
  ['curl/8.5.0', 'curl', '', 'library'],
  ['python-requests/2.31.0', 'python-requests', '', 'library'],
  ['Go-http-client/1.1', 'Go-http-client', '', 'library']
]

test('the AI crawlers, search engines and tools: name, operator and purpose (a hand-checked list)', async (t) => {
  for (const [ua, name, operator, purpose] of AI_CRAWLERS) {
    const client = parseUserAgent(ua, true)
    t.equal(client.bot, true, `${name}: isbot flags it`)
    t.same(client.crawler, { name, operator, purpose, verified: null }, `${name}: named (no IP: verified null)`)
  }
})

test('a browser has no crawler, and a User-Agent isbot does not flag is never named', async (t) => {
  t.equal(parseUserAgent('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', true).crawler, null)
  t.equal(parseUserAgent('', false).crawler, null, 'bots: \'keep\' detects nothing, names nothing')
  t.same(parseUserAgent('', true).crawler, { name: '', operator: '', purpose: 'unknown', verified: null }, 'no User-Agent: a bot nothing names')
  t.equal(parseUserAgent('curl/8.5.0', false).crawler, null, 'without bot detection a crawler is not named either')
})

test('every crawler-user-agents example isbot flags is named, with a purpose from the list', async (t) => {
  t.equal(PATTERN_DATA_SOURCE.version, (JSON.parse(readFileSync(join(dirname(createRequire(import.meta.url).resolve('crawler-user-agents')), 'package.json'), 'utf8')) as { version: string }).version, 'the vendored table is from the installed package (npm run update:crawlers)')
  t.equal(CRAWLER_PATTERNS.length, ENTRIES.length, 'every pattern vendored')
  let flagged = 0
  let named = 0
  const unnamed: string[] = []
  const wrong: string[] = []
  for (const entry of ENTRIES) {
    for (const instance of entry.instances) {
      if (!isbot(parsedPart(instance))) continue
      flagged++
      const crawler = parseUserAgent(instance, true).crawler
      if (crawler === null || !CRAWLER_PURPOSES.includes(crawler.purpose)) wrong.push(instance)
      else if (crawler.name !== '') named++
      else unnamed.push(instance)
    }
  }
  t.same(wrong, [], 'every flagged example has a crawler with one of the purposes')
  t.ok(flagged > 2000, `${flagged} examples flagged by isbot`)
  // An example whose pattern matches only past the parser's 256 code points is the only way to miss.
  for (const instance of unnamed) t.ok([...instance].length > 256 || instance === '', `unnamed only when cut: ${instance.slice(0, 80)}`)
  t.ok(named / flagged > 0.99, `${named} of ${flagged} named`)
})

test('the table names what it says for the package\'s examples of the same crawler', async (t) => {
  // For each table entry whose token appears in a package example, that example gets the table's name
  // unless an earlier table token also appears in it (first match wins, by design).
  let checked = 0
  const wrong: string[] = []
  for (const entry of ENTRIES) {
    for (const instance of entry.instances) {
      const part = parsedPart(instance)
      if (!isbot(part)) continue
      const lower = part.toLowerCase()
      const first = KNOWN_CRAWLERS.find((known) => lower.includes(known.token))
      if (first === undefined) continue
      checked++
      const crawler = parseUserAgent(instance, true).crawler!
      if (crawler.name !== first.name || crawler.operator !== first.operator || crawler.purpose !== first.purpose) wrong.push(instance)
    }
  }
  t.same(wrong, [])
  t.ok(checked > 300, `${checked} examples named by the table`)
})

test('a User-Agent claiming ten crawlers is the first of them in the table, deterministically', async (t) => {
  const ten = 'Mozilla/5.0 (compatible; curl/8.0; AhrefsBot/7.0; Googlebot/2.1; bingbot/2.0; ClaudeBot/1.0; PerplexityBot/1.0; Applebot/0.1; YandexBot/3.0; Baiduspider/2.0; GPTBot/1.1)'
  t.same(parseUserAgent(ten, true).crawler, { name: 'GPTBot', operator: 'OpenAI', purpose: 'ai-training', verified: null })
  t.equal(identifyCrawler(ten).name, identifyCrawler(ten).name)
})

test('crawlerFor: the request IP decides verified; no IP or an unparsable one leaves it null', async (t) => {
  const googlebot = identifyCrawler('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)')
  t.equal(crawlerFor(googlebot, '66.249.66.1').verified, true, 'Google\'s own example address')
  t.equal(crawlerFor(googlebot, '::ffff:66.249.66.1').verified, true, 'IPv4-mapped IPv6')
  t.equal(crawlerFor(googlebot, '203.0.113.9').verified, false, 'a documentation address: a spoof')
  t.equal(crawlerFor(googlebot, '').verified, null)
  t.equal(crawlerFor(googlebot, 'not an ip').verified, null)
  t.equal(crawlerFor(googlebot, '66.249.66.1'), crawlerFor(googlebot, '66.249.66.2'), 'the same frozen answer: nothing allocated per request')
  const yandex = identifyCrawler('Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)')
  t.equal(crawlerFor(yandex, '66.249.66.1').verified, null, 'no published ranges: null whatever the IP')
  const claude = identifyCrawler('Mozilla/5.0 (compatible; ClaudeBot/1.0; +claudebot@anthropic.com)')
  t.equal(crawlerFor(claude, '216.73.216.1').verified, true, 'inside Anthropic\'s published list')
  t.equal(crawlerFor(claude, '66.249.66.1').verified, false, 'a Google address claiming to be ClaudeBot: a spoof')
})

test('the pattern index answers as a scan of the patterns in order would, for every example', async (t) => {
  const compiled = CRAWLER_PATTERNS.map(([pattern, name]) => [new RegExp(pattern), name] as const)
  const wrong: string[] = []
  let compared = 0
  for (const entry of ENTRIES) {
    for (const instance of [...entry.instances, `${entry.instances[0] ?? ''} x`, `zzbot ${entry.pattern}`]) {
      const part = parsedPart(instance)
      const lower = part.toLowerCase()
      if (part === '' || KNOWN_CRAWLERS.some((known) => lower.includes(known.token))) continue
      const expected = compiled.find(([pattern]) => pattern.test(part))?.[1] ?? ''
      if (identifyCrawler(part).name !== expected) wrong.push(part)
      compared++
    }
  }
  t.same(wrong, [])
  t.ok(compared > 1500, `${compared} User-Agents compared`)
})
