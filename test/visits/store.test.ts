import { test } from 'tap'
import { DIRECT, attribute } from '../../lib/attribution/index.js'
import { MemoryVisitStore, type VisitHit } from '../../lib/visits/index.js'

const DAY = 20_000

function hit (visitorId: string, atMs: number, extra: Partial<VisitHit> = {}): VisitHit {
  return { visitorId, previousVisitorId: '', atMs, timeoutMs: 1000, attribution: DIRECT, landingPath: '/', ...extra }
}

test('salts: one per day, yesterday\'s kept, older ones deleted', async (t) => {
  const store = new MemoryVisitStore()
  const first = store.salts(DAY)
  t.equal(first.today.length, 32)
  t.equal(first.yesterday, undefined, 'no salt was made the day before')
  t.same(store.salts(DAY).today, first.today, 'the same salt all day')
  const second = store.salts(DAY + 1)
  t.notSame(second.today, first.today)
  t.same(second.yesterday, first.today, 'yesterday\'s salt is kept for visits crossing midnight')
  const third = store.salts(DAY + 2)
  t.equal(store.saltDays, 2, 'two days held')
  t.same(third.yesterday, second.today)
  // The salt of DAY is gone: asking for DAY again makes a new one.
  t.notSame(store.salts(DAY).today, first.today, 'a salt two days old was deleted')
})

test('a bounded store: the stalest generation goes, visitors still visiting counted as evictions', async (t) => {
  // A cap of 4: two generations of 2.
  const store = new MemoryVisitStore(4)
  store.visit(hit('a', 0))
  const b = store.visit(hit('b', 0))
  store.visit(hit('c', 1)) // the current generation was full: a, b become the previous one
  store.visit(hit('d', 1))
  t.equal(store.size, 4)
  t.equal(store.evictions, 0)
  const a = store.visit(hit('a', 2)) // found in the previous generation and moved up: b's generation goes
  t.equal(store.size, 3)
  t.equal(store.evictions, 1, 'b was still visiting: an eviction')
  store.visit(hit('e', 3))
  t.equal(store.size, 4, 'never more than the cap')
  t.equal(store.visit(hit('a', 4)).id, a.id, 'a recently seen visitor keeps its visit')
  t.not(store.visit(hit('b', 5)).id, b.id, 'an evicted visitor starts a new visit')
  t.equal(store.evictions, 3, 'c and d, still visiting, went with their generation')
  // Everyone times out, then new visitors push them out: timed-out visitors are not evictions.
  for (let i = 0; i < 8; i++) store.visit(hit(`late-${i}`, 10_000 + i * 2000))
  t.equal(store.evictions, 3, 'visitors whose visit had timed out are dropped without counting')
  t.ok(store.size <= 4)
})

test('visit rules: out-of-order events join, a timeout or a new source starts a visit, yesterday\'s id continues', async (t) => {
  const store = new MemoryVisitStore()
  const first = store.visit(hit('v', 10_000))
  t.equal(store.visit(hit('v', 9_000)).id, first.id, 'an event older than the last one joins the visit')
  t.equal(store.visit(hit('v', 10_999)).id, first.id, 'a gap under the timeout continues')
  const campaign = attribute('/?utm_source=a&utm_medium=email', '', 'shop.example')
  const second = store.visit(hit('v', 11_000, { attribution: campaign }))
  t.not(second.id, first.id, 'a campaign starts a visit')
  t.equal(second.source, 'a')
  t.equal(store.visit(hit('v', 11_500, { attribution: campaign })).id, second.id, 'the same campaign again continues it')
  t.equal(store.visit(hit('v', 11_600)).source, 'a', 'Direct continues it and keeps its attribution')
  const crossed = store.visit(hit('v-today', 12_000, { previousVisitorId: 'v' }))
  t.equal(crossed.id, second.id, 'found under yesterday\'s id: the visit continues under today\'s')
  t.equal(store.visit(hit('v-today', 12_100)).id, second.id)
  t.not(store.visit(hit('v', 12_200)).id, second.id, 'yesterday\'s id no longer holds it')
  t.not(store.visit(hit('v-today', 13_100)).id, second.id, 'a gap of the timeout starts a new visit')
})
