// What attribution, the spam check and the country lookup cost one request, in ns per call, on
// the built package (run `npm run build` first):
//
//   node bench/attribution.js
//
// Returning visitor: an internal page view (same-site referrer, no query) and one whose external
// referrer is already in the memo. New visitor: a campaign URL and a referrer never seen before
// (each iteration a distinct origin, so every call parses and classifies). Country: a cached IP
// and a new one. Bounded: ROUNDS × CALLS per figure; the median round is printed.
import { attribute, isReferrerSpam } from '../dist/lib/attribution/index.js'
import { CountryDatabase } from '../dist/lib/geo/country.js'

const ROUNDS = Number(process.env.ROUNDS ?? 7)
const CALLS = Number(process.env.CALLS ?? 200_000)
const NEW_CALLS = 20_000 // below the memos' sizes would flatter nothing: each key is fresh anyway
const SITE = 'shop.example'

function nsPerCall (calls, fn) {
  const rounds = []
  let sink = 0
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < calls; i++) sink += fn(i) === undefined ? 0 : 1
    rounds.push(Number(process.hrtime.bigint() - start) / calls)
  }
  if (sink < 0) console.log(sink)
  rounds.sort((a, b) => a - b)
  return rounds[rounds.length >> 1].toFixed(0)
}

// Fresh strings per call for the new-visitor figures, built before timing.
const newReferrers = Array.from({ length: NEW_CALLS }, (_, i) => `https://blog${i}.example.org/posts/${i}`)
const newSearchReferrers = Array.from({ length: NEW_CALLS }, (_, i) => `https://www.google.de/search?q=${i}`)
const campaignUrls = Array.from({ length: NEW_CALLS }, (_, i) => `/landing?utm_source=newsletter&utm_medium=email&utm_campaign=c${i}`)
const db = CountryDatabase.open()
// Every call of every round a distinct public address, so each one walks the database.
const newIps = Array.from({ length: NEW_CALLS * ROUNDS }, (_, i) => `${(i % 200) + 11}.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`)
let ipCall = 0

const figures = [
  ['returning: same-site referrer, no query', nsPerCall(CALLS, () => attribute('/products/42', `https://${SITE}/products`, SITE))],
  ['returning: same-site referrer, ?page=2', nsPerCall(CALLS, () => attribute('/products?page=2', `https://${SITE}/products`, SITE))],
  ['returning: cached external referrer', nsPerCall(CALLS, () => attribute('/products/42', 'https://www.google.com/', SITE))],
  ['new: unseen plain referrer', nsPerCall(NEW_CALLS, (i) => attribute('/', newReferrers[i], SITE))],
  ['returning: Google referrer with a keyword query (origin cached)', nsPerCall(NEW_CALLS, (i) => attribute('/', newSearchReferrers[i], SITE))],
  ['new: UTM campaign URL, no referrer', nsPerCall(NEW_CALLS, (i) => attribute(campaignUrls[i], '', SITE))],
  ['spam check: same-site referrer', nsPerCall(CALLS, () => isReferrerSpam(`https://${SITE}/products`))],
  ['spam check: unseen referrer', nsPerCall(NEW_CALLS, (i) => isReferrerSpam(newReferrers[i]))],
  ['country: cached IP', nsPerCall(CALLS, () => db.lookup('193.0.6.139'))],
  ['country: new IPv4', nsPerCall(NEW_CALLS, () => db.lookup(newIps[ipCall++]))]
]
console.log(`node ${process.version}, ${ROUNDS} rounds, median ns per call`)
for (const [name, ns] of figures) console.log(`${ns.padStart(7)} ns  ${name}`)
