// Memory per active visitor, measured: the in-memory visit store and the visitor-id cache filled
// with distinct visitors, heap after a full GC minus heap before, divided by the visitors held.
// Run after `npm run build`:  node --expose-gc bench/visits-memory.js
import { randomBytes } from 'node:crypto'
import { DEFAULT_MAX_VISITORS, MemoryVisitStore } from '../dist/modules/lib/visits/store.js'
import { DEFAULT_ID_CACHE_SIZE, VisitorIdCache } from '../dist/modules/lib/visits/visitor-id.js'
import { attribute } from '../dist/modules/lib/attribution/index.js'

if (typeof globalThis.gc !== 'function') throw new Error('run with node --expose-gc')
const gc = globalThis.gc
const heap = () => { gc(); gc(); return process.memoryUsage().heapUsed }

const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36'
const campaign = attribute('/?utm_source=newsletter&utm_medium=email&utm_campaign=spring', '', 'shop.example')
const direct = attribute('/', '', 'shop.example')

const held = [] // what each block measured stays reachable, so the next block's figure is its own

// Visit store: DEFAULT_MAX_VISITORS distinct visitors, one in ten from a campaign, landing paths as
// a parsed request gives them (a fresh string per request).
{
  const store = new MemoryVisitStore()
  const n = DEFAULT_MAX_VISITORS
  const ids = Array.from({ length: n }, () => randomBytes(16).toString('hex'))
  const paths = Array.from({ length: n }, (_, i) => `/products/${1000 + (i % 5000)}`)
  const before = heap()
  const t0 = Date.now()
  for (let i = 0; i < n; i++) {
    store.visit({ visitorId: ids[i], previousVisitorId: '', atMs: t0 + i, timeoutMs: 1_800_000, attribution: i % 10 === 0 ? campaign : direct, landingPath: paths[i] })
  }
  const after = heap()
  console.log(`visit store: ${store.size} visitors held, ${((after - before) / store.size).toFixed(0)} bytes each (ids and paths held by the caller are counted elsewhere; see below), ${((after - before) / 1048576).toFixed(1)} MB`)
  // The visitor id string and the landing path are the store's to keep once the request is gone.
  const strings = ids.length * (16 + 32) + paths.length * (16 + 16)
  console.log(`  + the 32-char id and the landing path strings the store keeps: ~${(strings / n).toFixed(0)} bytes each`)
  held.push(store, ids, paths)
}

// Visitor-id cache: DEFAULT_ID_CACHE_SIZE distinct (host, IP, user agent) triples.
{
  const cache = new VisitorIdCache()
  cache.useSalts(1, { today: randomBytes(32), yesterday: randomBytes(32) })
  const ips = Array.from({ length: DEFAULT_ID_CACHE_SIZE }, (_, i) => `11.${(i >> 8) & 0xff}.${i & 0xff}.7`)
  const agents = ips.map(() => Buffer.from(UA).toString('latin1'))
  const before = heap()
  for (let i = 0; i < ips.length; i++) cache.ids('shop.example', ips[i], agents[i], false)
  const after = heap()
  console.log(`visitor-id cache: ${cache.size} entries, ${((after - before) / cache.size).toFixed(0)} bytes each, ${((after - before) / 1048576).toFixed(1)} MB`)
  held.push(cache, ips, agents)
}
