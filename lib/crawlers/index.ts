import { KNOWN_CRAWLERS } from './catalogue.js'
import { CRAWLER_PATTERNS } from './data/patterns.js'
import { RANGES_NOT_VENDORED } from './data/ranges.js'
import { inRangeSet, parseIp, vendoredRanges, type RangeSet } from './ranges.js'
import type { CrawlerInfo, CrawlerPurpose } from './types.js'

export { CRAWLER_PURPOSES, type CrawlerInfo, type CrawlerPurpose } from './types.js'

/**
 * What a User-Agent says about its crawler, before the request's IP is looked at: computed once per
 * distinct User-Agent (the client cache holds it), with the three answers a request can get made
 * once too, so a crawler request allocates nothing here.
 */
export interface CrawlerIdentity {
  name: string
  operator: string
  purpose: CrawlerPurpose
  /** The published ranges its requests come from; undefined when none are vendored. */
  ranges: readonly RangeSet[] | undefined
  /** `verified` null, true, false. */
  readonly unverified: Readonly<CrawlerInfo>
  readonly inside: Readonly<CrawlerInfo>
  readonly outside: Readonly<CrawlerInfo>
}

let names: string[] | undefined
let nameIndexes: Map<string, number> | undefined

/**
 * Every name a crawler can have, in a fixed order: the hand-written table's, then the patterns',
 * then '' (nothing named it). The same in every thread, so counters kept by index cross the worker
 * snapshot as plain numbers.
 */
export function crawlerNames (): readonly string[] {
  if (names === undefined) {
    const seen = new Set<string>()
    for (const known of KNOWN_CRAWLERS) seen.add(known.name)
    for (const [, name] of CRAWLER_PATTERNS) seen.add(name)
    seen.delete('')
    names = [...seen, '']
    nameIndexes = new Map(names.map((name, i) => [name, i]))
  }
  return names
}

/** The index of `name` in {@link crawlerNames} (what the counters are kept by); a name not there counts as '' (the last). */
export function crawlerNameIndex (name: string): number {
  const all = crawlerNames()
  return (nameIndexes as Map<string, number>).get(name) ?? all.length - 1
}

// Built at the first bot that the table does not name, never joined into one expression: V8 takes
// 0.6–2.7 ms per User-Agent on the 1 500 patterns as one regex (shared/reference/
// visitors-attribution-crawlers.md). 1 463 of the 1 500 are plain text once their escapes (`\/`,
// `\.`) are read; tried one by one (a substring search each) a User-Agent that matches none still
// cost 176 µs on this project's loaded 2-core machine. So the plain ones are indexed by their first
// three characters and the User-Agent is read once, position by position (at most 256: the parser's
// cut): 54 µs for the same miss, most of it the regular expressions. The 37 regular expressions (and texts shorter than three) are tried in turn. The
// first pattern in the package's order wins, as in a scan of the list.
const GRAM = 3

interface PatternIndex {
  /** First three characters → the indexes (ascending) of the plain-text patterns that start so. */
  grams: Map<string, number[]>
  texts: Array<string | undefined>
  /** The others, in order: regular expressions, or texts too short for the index. */
  others: Array<readonly [number, RegExp | string]>
}

let index: PatternIndex | undefined

const ESCAPED = /\\([^A-Za-z0-9])/g
const SYNTAX = /[\\^$.*+?()[\]{}|]/

function patternIndex (): PatternIndex {
  if (index !== undefined) return index
  const built: PatternIndex = { grams: new Map(), texts: [], others: [] }
  CRAWLER_PATTERNS.forEach(([pattern], i) => {
    const plain = SYNTAX.test(pattern.replace(ESCAPED, '')) ? undefined : pattern.replace(ESCAPED, '$1')
    built.texts.push(plain)
    if (plain === undefined) built.others.push([i, new RegExp(pattern)])
    else if (plain.length < GRAM) built.others.push([i, plain])
    else {
      const gram = plain.slice(0, GRAM)
      const list = built.grams.get(gram)
      if (list === undefined) built.grams.set(gram, [i])
      else list.push(i)
    }
  })
  index = built
  return built
}

/** The index of the first pattern (in the package's order) that matches, or -1. */
function firstPattern (userAgent: string): number {
  const { grams, texts, others } = patternIndex()
  let best = Infinity
  for (let at = 0; at + GRAM <= userAgent.length; at++) {
    const candidates = grams.get(userAgent.slice(at, at + GRAM))
    if (candidates === undefined) continue
    for (const i of candidates) {
      if (i >= best) break
      if (userAgent.startsWith(texts[i] as string, at)) best = i
    }
  }
  for (const [i, pattern] of others) {
    if (i >= best) break
    if (typeof pattern === 'string' ? userAgent.includes(pattern) : pattern.test(userAgent)) return i
  }
  return best === Infinity ? -1 : best
}

function identity (name: string, operator: string, purpose: CrawlerPurpose, ranges: readonly RangeSet[] | undefined): CrawlerIdentity {
  const make = (verified: boolean | null): Readonly<CrawlerInfo> => Object.freeze({ name, operator, purpose, verified })
  return { name, operator, purpose, ranges, unverified: make(null), inside: make(true), outside: make(false) }
}

const notVendored = new Set(RANGES_NOT_VENDORED.map((list) => list.key))

function rangesOf (keys: readonly string[]): readonly RangeSet[] | undefined {
  if (keys.length === 0) return undefined
  const all = vendoredRanges()
  const sets: RangeSet[] = []
  for (const key of keys) {
    const set = all.get(key)
    if (set !== undefined) sets.push(set)
    else if (!notVendored.has(key)) throw new Error(`lib/crawlers/catalogue.ts names unknown ranges "${key}"`)
  }
  return sets.length === 0 ? undefined : sets
}

let nobody: CrawlerIdentity | undefined

/**
 * Names the crawler behind a User-Agent `isbot` flagged (the caller's check: browsers never get
 * here). The hand-written table first (a substring each, lower-cased: the names with operator and
 * purpose), then crawler-user-agents' patterns in order; the first match wins, so a User-Agent that
 * claims ten crawlers costs one scan and is the first of them. `userAgent` is already cut to the
 * parser's 256 code points (lib/client.ts), which bounds every step.
 */
export function identifyCrawler (userAgent: string): CrawlerIdentity {
  if (userAgent !== '') {
    const lower = userAgent.toLowerCase()
    for (const known of KNOWN_CRAWLERS) {
      if (lower.includes(known.token)) return identity(known.name, known.operator, known.purpose, rangesOf(known.ranges))
    }
    const found = firstPattern(userAgent)
    if (found !== -1) {
      const [, name, purpose] = CRAWLER_PATTERNS[found]
      return identity(name, '', purpose, undefined)
    }
  }
  nobody ??= identity('', '', 'unknown', undefined)
  return nobody
}

/** The crawler of one request: its identity, checked against the published ranges with the request's IP (`request.ip`, so trustProxy decides). */
export function crawlerFor (crawler: CrawlerIdentity, ip: string): Readonly<CrawlerInfo> {
  const ranges = crawler.ranges
  if (ranges === undefined || ip === '') return crawler.unverified
  const parsed = parseIp(ip)
  if (parsed.v4 < 0 && parsed.v6 < 0n) return crawler.unverified
  for (const set of ranges) if (inRangeSet(set, parsed)) return crawler.inside
  return crawler.outside
}
