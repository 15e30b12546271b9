// What naming a crawler costs: µs per new User-Agent through the client classifier (ua-parser-js,
// isbot, then the crawler tables and the range check), against an ordinary browser's, and the range
// lookup alone. Every call uses a User-Agent not seen before (a counter in front: the cache keys on
// the first 256 code points). Bounded: ROUNDS × CALLS calls per case. Run after `npm run build`:
//
//   node bench/crawlers.js
import { ClientClassifier } from '../dist/modules/lib/client.js'
import { crawlerFor, identifyCrawler } from '../dist/modules/lib/crawlers/index.js'

const ROUNDS = Number(process.env.ROUNDS ?? 7)
const CALLS = Number(process.env.CALLS ?? 2000)
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'
const TEN = 'Mozilla/5.0 (compatible; curl/8.0; AhrefsBot/7.0; Googlebot/2.1; bingbot/2.0; ClaudeBot/1.0; PerplexityBot/1.0; Applebot/0.1; YandexBot/3.0; Baiduspider/2.0; GPTBot/1.1)'
const UNNAMED_500 = 'Mozilla/5.0 (compatible; zqxbot/1.0) ' + 'AppleWebKit/537.36 (KHTML, like Gecko) '.repeat(12)

const cases = {
  'browser (baseline)': [CHROME, '203.0.113.9'],
  'Googlebot, IPv4, verified': [GOOGLEBOT, '66.249.66.1'],
  'Googlebot, IPv6, verified': [GOOGLEBOT, '2001:4860:4801:10::1'],
  'Googlebot, spoofed': [GOOGLEBOT, '203.0.113.9'],
  'ten crawlers claimed': [TEN, '203.0.113.9'],
  '500 characters, no name (whole pattern scan)': [UNNAMED_500, '203.0.113.9']
}

function perCall (ua, ip) {
  const clients = new ClientClassifier(true)
  const start = process.hrtime.bigint()
  for (let i = 0; i < CALLS; i++) clients.classify(`${i} ${ua}`, undefined, undefined, ip)
  return Number(process.hrtime.bigint() - start) / CALLS / 1000
}

function lookup (ip) {
  const googlebot = identifyCrawler(GOOGLEBOT)
  const start = process.hrtime.bigint()
  for (let i = 0; i < CALLS * 10; i++) crawlerFor(googlebot, ip)
  return Number(process.hrtime.bigint() - start) / (CALLS * 10) / 1000
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const figures = Object.fromEntries(Object.keys(cases).map((name) => [name, []]))
const lookups = { 'range check, IPv4': [], 'range check, IPv6': [] }
perCall(GOOGLEBOT, '66.249.66.1') // loads the parsers and the tables
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, [ua, ip]] of Object.entries(cases)) figures[name].push(perCall(ua, ip))
  lookups['range check, IPv4'].push(lookup('66.249.66.1'))
  lookups['range check, IPv6'].push(lookup('2001:4860:4801:10::1'))
}
const baseline = median(figures['browser (baseline)'])
console.log(`µs per new User-Agent, median of ${ROUNDS} rounds of ${CALLS}`)
for (const [name, values] of Object.entries(figures)) console.log(`  ${name.padEnd(46)} ${median(values).toFixed(1).padStart(7)} µs  ${(median(values) / baseline).toFixed(2)}×`)
for (const [name, values] of Object.entries(lookups)) console.log(`  ${name.padEnd(46)} ${median(values).toFixed(2).padStart(7)} µs`)
