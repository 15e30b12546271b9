// What the privacy stage costs per event, in CPU time: the URL rules (allow-list, fragment, email
// scan) on the page view the HTTP benchmark produces, on a URL full of secrets, and the IP truncation
// stdout and webhook do per event by default. CPU time (process.cpuUsage), not wall-clock, so a busy
// machine slows the figures less; still, compare them on one run.
//   npm run build && node bench/privacy.js
import { applyIpPolicy, normalizePrivacy, UrlCleaner } from '../dist/modules/lib/privacy/index.js'
import { BROWSER_HEADERS, median } from './common.js'

const ROUNDS = 7
const ITERATIONS = 200_000
const policy = normalizePrivacy(undefined)

const CASES = {
  // The §1/§2 load: no query on the page, `?q=bench` on the referrer.
  'bench page view': { url: 'http://shop.example/products/1042', path: '/products/1042', referrer: BROWSER_HEADERS.referer },
  'no query, no referrer': { url: 'http://shop.example/products/1042', path: '/products/1042', referrer: '' },
  'secrets and emails': {
    url: 'https://shop.example/account/alice@example.com?email=bob%40example.org&token=s3cret&utm_source=news&gclid=abc#f',
    path: '/account/alice@example.com',
    referrer: 'https://mail.example/read?to=carol@example.net&utm_campaign=spring'
  }
}

function cpuNs (fn) {
  const start = process.cpuUsage()
  fn()
  const used = process.cpuUsage(start)
  return ((used.user + used.system) * 1000) / ITERATIONS
}

const results = []
for (const [label, fields] of Object.entries(CASES)) {
  const event = { ...fields }
  // The request path's cleaner: a repeated referrer is cleaned once, then looked up.
  const cleaner = new UrlCleaner(policy)
  const rounds = []
  for (let r = 0; r < ROUNDS; r++) {
    rounds.push(cpuNs(() => {
      for (let i = 0; i < ITERATIONS; i++) {
        event.url = fields.url
        event.path = fields.path
        event.referrer = fields.referrer
        cleaner.apply(event)
      }
    }))
  }
  results.push([`URL rules: ${label}`, rounds])
}
const ips = ['203.0.113.7', '2001:db8:abcd:12::1']
for (const ip of ips) {
  const rounds = []
  for (let r = 0; r < ROUNDS; r++) {
    rounds.push(cpuNs(() => { for (let i = 0; i < ITERATIONS; i++) applyIpPolicy(ip, 'truncate') }))
  }
  results.push([`ip 'truncate' ${ip}`, rounds])
}
const empty = []
for (let r = 0; r < ROUNDS; r++) empty.push(cpuNs(() => { for (let i = 0; i < ITERATIONS; i++) applyIpPolicy('', 'none') }))
results.push(["ip 'none' (call overhead)", empty])

console.log(`Node ${process.version}, ${ITERATIONS} iterations × ${ROUNDS} rounds, CPU ns per call: median (min–max)`)
for (const [label, rounds] of results) {
  console.log(`${label.padEnd(48)} ${median(rounds).toFixed(0).padStart(6)} (${Math.min(...rounds).toFixed(0)}–${Math.max(...rounds).toFixed(0)})`)
}
