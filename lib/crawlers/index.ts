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
  /** Index of `name` in {@link crawlerNames}: what the counters are kept by. */
  nameIndex: number
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

function nameIndex (name: string): number {
  crawlerNames()
  return (nameIndexes as Map<string, number>).get(name) as number
}

// Compiled at the first bot that the table does not name, never joined into one expression: V8 takes
// 0.6–2.7 ms per User-Agent on the 1 500 patterns as one regex, against 8–23 µs for the scan below
// (shared/reference/visitors-attribution-crawlers.md), and the scan runs once per distinct User-Agent.
let patterns: Array<readonly [RegExp, string, CrawlerPurpose]> | undefined

function compiledPatterns (): ReadonlyArray<readonly [RegExp, string, CrawlerPurpose]> {
  patterns ??= CRAWLER_PATTERNS.map(([pattern, name, purpose]) => [new RegExp(pattern), name, purpose] as const)
  return patterns
}

function identity (name: string, operator: string, purpose: CrawlerPurpose, ranges: readonly RangeSet[] | undefined): CrawlerIdentity {
  const make = (verified: boolean | null): Readonly<CrawlerInfo> => Object.freeze({ name, operator, purpose, verified })
  return { name, operator, purpose, nameIndex: nameIndex(name), ranges, unverified: make(null), inside: make(true), outside: make(false) }
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
    for (const [pattern, name, purpose] of compiledPatterns()) {
      if (pattern.test(userAgent)) return identity(name, '', purpose, undefined)
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
