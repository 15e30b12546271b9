import { crawlerNameIndex, crawlerNames } from './index.js'
import { CRAWLER_PURPOSES, type CrawlerInfo, type CrawlerPurpose } from './types.js'

/** `stats().events.crawlers`: every crawler request, kept or skipped (docs/crawlers.md). */
export interface CrawlerStats {
  /** Requests `isbot` flagged, spoofed ones included. */
  requests: number
  /** Requests whose crawler claimed a name its operator's published ranges do not cover (`verified: false`). */
  spoofed: number
  /** Requests by purpose, spoofed ones left out (they are not what they claim). */
  byPurpose: Record<CrawlerPurpose, number>
  /**
   * Requests by crawler name, spoofed ones left out: the {@link MAX_REPORTED_CRAWLER_NAMES} most
   * frequent names, the rest (and crawlers nothing names) summed under `other`.
   */
  byName: Record<string, number>
  /** Spoofed requests by the name they claimed, bounded like `byName`. */
  spoofedByName: Record<string, number>
}

/** Names `byName` and `spoofedByName` list one by one; the rest are summed under `other`. */
export const MAX_REPORTED_CRAWLER_NAMES = 20

const REQUESTS = 0
const SPOOFED = 1
const PURPOSES = 2

let purposeIndex: Map<CrawlerPurpose, number> | undefined

/**
 * The counts as one flat array of numbers: requests, spoofed, one per purpose, one per name, one
 * per name for spoofs. Flat so that the delivery worker's pipeline can publish it into the shared
 * snapshot as it is, and the request thread can add its copies up.
 */
export function crawlerBlockLength (): number {
  return PURPOSES + CRAWLER_PURPOSES.length + 2 * crawlerNames().length
}

export function emptyCrawlerBlock (): Float64Array {
  return new Float64Array(crawlerBlockLength())
}

/** Counts one crawler request. */
export function countCrawler (block: Float64Array, crawler: Readonly<CrawlerInfo>): void {
  purposeIndex ??= new Map(CRAWLER_PURPOSES.map((purpose, i) => [purpose, i]))
  const names = PURPOSES + CRAWLER_PURPOSES.length
  const name = crawlerNameIndex(crawler.name)
  block[REQUESTS]++
  if (crawler.verified === false) {
    block[SPOOFED]++
    block[names + crawlerNames().length + name]++
    return
  }
  block[PURPOSES + (purposeIndex.get(crawler.purpose) as number)]++
  block[names + name]++
}

function topNames (block: Float64Array, from: number, names: readonly string[]): Record<string, number> {
  const counted: Array<[string, number]> = []
  let other = 0
  for (let i = 0; i < names.length; i++) {
    const count = block[from + i]
    if (count === 0) continue
    if (names[i] === '') other += count
    else counted.push([names[i], count])
  }
  counted.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
  const result: Record<string, number> = {}
  for (let i = 0; i < counted.length; i++) {
    if (i < MAX_REPORTED_CRAWLER_NAMES) result[counted[i][0]] = counted[i][1]
    else other += counted[i][1]
  }
  if (other > 0) result.other = other
  return result
}

/** The report of a block (or of several added up). */
export function crawlerStats (block: Float64Array | undefined): CrawlerStats {
  const byPurpose = {} as Record<CrawlerPurpose, number>
  for (let i = 0; i < CRAWLER_PURPOSES.length; i++) byPurpose[CRAWLER_PURPOSES[i]] = block?.[PURPOSES + i] ?? 0
  if (block === undefined) return { requests: 0, spoofed: 0, byPurpose, byName: {}, spoofedByName: {} }
  const names = crawlerNames()
  const at = PURPOSES + CRAWLER_PURPOSES.length
  return {
    requests: block[REQUESTS],
    spoofed: block[SPOOFED],
    byPurpose,
    byName: topNames(block, at, names),
    spoofedByName: topNames(block, at + names.length, names)
  }
}

/** Adds `from` into `into` (same length). */
export function addCrawlerBlock (into: Float64Array, from: ArrayLike<number>): void {
  for (let i = 0; i < into.length; i++) into[i] += from[i]
}
