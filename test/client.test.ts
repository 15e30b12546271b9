import { test } from 'tap'
import Fastify from 'fastify'
import { ClientClassifier, MAX_PARSED_USER_AGENT_LENGTH, parseUserAgent } from '../lib/client.js'

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
// The slowest input found for ua-parser-js: its cost grows with the square of the repetitions.
const HOSTILE = 'Android 1; '.repeat(200)

/** The fastest of several rounds, in ns per parse: the least disturbed by whatever else the machine runs. */
function bestNsPerParse (userAgent: string, perRound = 20, rounds = 9): number {
  let best = Infinity
  for (let round = 0; round < rounds; round++) {
    const start = process.hrtime.bigint()
    for (let i = 0; i < perRound; i++) parseUserAgent(userAgent, true)
    best = Math.min(best, Number(process.hrtime.bigint() - start) / perRound)
  }
  return best
}

test('a crafted User-Agent costs a bounded multiple of a normal one (measured in the same run)', async (t) => {
  bestNsPerParse(CHROME, 20, 3) // warm both paths up
  bestNsPerParse(HOSTILE, 5, 3)
  const normal = bestNsPerParse(CHROME)
  const hostile = bestNsPerParse(HOSTILE)
  // Cut at 256 code points the worst case measured 6× a desktop Chrome; uncut (the parser's own
  // 500 cut) 18–30×. 12× leaves a loaded machine room either way.
  t.ok(hostile < 12 * normal, `hostile ${(hostile / 1000).toFixed(0)} µs, normal ${(normal / 1000).toFixed(0)} µs: ${(hostile / normal).toFixed(1)}×`)
})

test('the parser and the cache see only the first MAX_PARSED_USER_AGENT_LENGTH code points', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  let classifier: ClientClassifier | undefined
  const seen: string[] = []
  app.get('/', async (request) => {
    classifier ??= new ClientClassifier(true)
    const client = classifier.classify(request.headers['user-agent'] ?? '', undefined, undefined)
    seen.push(client.browser)
    return 'ok'
  })
  const padded = CHROME + ' '.repeat(MAX_PARSED_USER_AGENT_LENGTH - CHROME.length)
  for (let i = 0; i < 5; i++) {
    await app.inject({ url: '/', headers: { 'user-agent': `${padded}tail-${i}-${'x'.repeat(1000)}` } })
  }
  t.same(seen, ['Chrome', 'Chrome', 'Chrome', 'Chrome', 'Chrome'], 'the browser is read from the first part')
  t.equal(classifier?.size, 1, 'agents that differ only past the cut share one cache entry')
})
