import { isbot } from 'isbot'
import { createRequire } from 'node:module'
import { LRUCache } from 'lru-cache'
import type { UAParser as Parser } from 'ua-parser-js'
import { truncateCodePoints } from './text.js'
import { libPath } from './location.js'
import { crawlerFor, identifyCrawler, type CrawlerIdentity, type CrawlerInfo } from './crawlers/index.js'

// ua-parser-js (CommonJS, its regex tables built at load) takes ~10 ms to load: loaded at the first
// User-Agent parsed, not when the plugin is imported, so it is off the app's cold start.
let UAParser: typeof Parser | undefined
function uaParser (): typeof Parser {
  UAParser ??= (createRequire(libPath('client.js'))('ua-parser-js') as { UAParser: typeof Parser }).UAParser
  return UAParser
}

/** The kind of device a visitor uses; `''` when the User-Agent does not say. */
export type DeviceCategory = 'desktop' | 'mobile' | 'tablet' | 'tv' | 'bot' | ''

/** Who made the request, from its User-Agent and Client Hints. Unknown strings are empty. */
export interface ClientInfo {
  /** `Chrome`, `Firefox`, `Mobile Safari`, … */
  browser: string
  /** The browser's full version as the User-Agent gives it (`120.0.0.0`). */
  browserVersion: string
  /** `Windows`, `macOS`, `iOS`, `Android`, `Linux`, `Chrome OS`, … */
  os: string
  osVersion: string
  device: DeviceCategory
  /** A crawler, a script, or a request with no User-Agent (detected with `isbot`). */
  bot: boolean
  /**
   * Which crawler, when `bot` is true: name, operator, purpose, and whether the client IP is in the
   * operator's published ranges (docs/crawlers.md). `null` for every other client.
   */
  crawler: Readonly<CrawlerInfo> | null
}

/** What events tracked outside a request carry. */
export const EMPTY_CLIENT: Readonly<ClientInfo> = Object.freeze({
  browser: '', browserVersion: '', os: '', osVersion: '', device: '', bot: false, crawler: null
})

/**
 * `app.inject`'s User-Agent (light-my-request). `isbot` flags it, so an app testing its analytics
 * with `memoryCollector` and `inject` would see nothing: it is recognised as a test client, not a bot.
 */
export const INJECT_USER_AGENT = 'lightMyRequest'

/** Distinct User-Agents whose classification is kept: parsing costs tens of µs, a hit costs a lookup. */
export const CLIENT_CACHE_SIZE = 1000

/**
 * The parser and the bot check see at most this many code points of a User-Agent, and the cache is
 * keyed on them. Browsers send 100–250 characters and the tokens that name browser, OS and device
 * come first; ua-parser-js's cost grows quadratically on crafted input (`'Android 1; '` repeated: 115 µs
 * at 256 characters, 548 µs at its own 500 cut, against 18 µs for a desktop Chrome, measured on this
 * project's 2-core machine). The event's `userAgent` field keeps up to MAX_FIELD_LENGTH.
 */
export const MAX_PARSED_USER_AGENT_LENGTH = 256

let noAgent: Readonly<ClientInfo> | undefined
function noAgentClient (): Readonly<ClientInfo> {
  noAgent ??= Object.freeze({ ...EMPTY_CLIENT, device: 'bot', bot: true, crawler: identifyCrawler('').unverified })
  return noAgent
}

// ua-parser-js's names for the two systems whose Client Hints name differs: one name per system,
// so a hint that agrees with the User-Agent keeps the version the User-Agent gave.
const OS_NAMES: Record<string, string> = { 'Mac OS': 'macOS', 'Chromium OS': 'Chrome OS' }
const DESKTOP_OS = new Set(['Windows', 'macOS', 'Linux', 'Chrome OS', 'Ubuntu', 'Debian', 'Fedora', 'FreeBSD', 'OpenBSD', 'NetBSD', 'Solaris', 'Mint', 'Arch', 'Gentoo', 'openSUSE', 'Red Hat', 'CentOS', 'Manjaro'])

// The platforms Sec-CH-UA-Platform may carry (WICG UA Client Hints §3.4, "Unknown" left out):
// a visitor-controlled header, so only these values are believed.
const HINT_PLATFORMS = new Map([
  ['"android"', 'Android'], ['"chrome os"', 'Chrome OS'], ['"chromium os"', 'Chrome OS'], ['"ios"', 'iOS'],
  ['"linux"', 'Linux'], ['"macos"', 'macOS'], ['"windows"', 'Windows']
])

function device (type: string | undefined, os: string, browser: string): DeviceCategory {
  switch (type) {
    case 'mobile':
    case 'wearable': return 'mobile'
    case 'tablet': return 'tablet'
    case 'smarttv': return 'tv'
    case undefined: return DESKTOP_OS.has(os) || (os === '' && browser !== '') ? 'desktop' : ''
    default: return '' // consoles and embedded devices: none of the categories fits
  }
}

/** What of a User-Agent the parser sees: its first {@link MAX_PARSED_USER_AGENT_LENGTH} code points. */
export function parsedPart (userAgent: string): string {
  return truncateCodePoints(userAgent, MAX_PARSED_USER_AGENT_LENGTH)
}

/**
 * Classifies one User-Agent string (no cache, no hints, no IP: a crawler's `verified` is null), from
 * its first {@link MAX_PARSED_USER_AGENT_LENGTH} code points.
 */
export function parseUserAgent (userAgent: string, detectBots: boolean): Readonly<ClientInfo> {
  return parse(parsedPart(userAgent), detectBots).client
}

/** The client of a User-Agent already cut to the parser's part, and its crawler's identity when a bot. */
function parse (userAgent: string, detectBots: boolean): { client: Readonly<ClientInfo>, crawler: CrawlerIdentity | undefined } {
  if (userAgent === '') return detectBots ? { client: noAgentClient(), crawler: identifyCrawler('') } : { client: EMPTY_CLIENT, crawler: undefined }
  if (userAgent === INJECT_USER_AGENT) return { client: EMPTY_CLIENT, crawler: undefined }
  const result = new (uaParser())(userAgent).getResult()
  const browser = result.browser.name ?? ''
  const rawOs = result.os.name ?? ''
  const os = OS_NAMES[rawOs] ?? rawOs
  const bot = detectBots && isbot(userAgent)
  // Only what isbot flagged is named: a browser never pays for the crawler tables.
  const crawler = bot ? identifyCrawler(userAgent) : undefined
  const client = Object.freeze({
    browser,
    browserVersion: result.browser.version ?? '',
    os,
    osVersion: result.os.version ?? '',
    device: bot ? 'bot' : device(result.device.type, os, browser),
    bot,
    crawler: crawler === undefined ? null : crawler.unverified
  })
  return { client, crawler }
}

/** A cached User-Agent: its client, and for a crawler the three clients a request can get (verified null, true, false). */
interface CacheEntry {
  client: Readonly<ClientInfo>
  crawler: CrawlerIdentity | undefined
  variants: Map<Readonly<CrawlerInfo>, Readonly<ClientInfo>> | undefined
}

/**
 * Classifies requests' clients: one parse per distinct User-Agent through a bounded LRU, then
 * the Client Hints of the request on top (they differ per request, so they are not cached).
 */
export class ClientClassifier {
  readonly #cache = new LRUCache<string, CacheEntry>({ max: CLIENT_CACHE_SIZE })
  readonly #detectBots: boolean

  constructor (detectBots: boolean) {
    this.#detectBots = detectBots
  }

  /** Distinct User-Agents held: at most {@link CLIENT_CACHE_SIZE}, whatever the traffic. */
  get size (): number {
    return this.#cache.size
  }

  /**
   * Keyed on what the parser sees: agents that differ only past that share an entry. The hints are
   * the request's `Sec-CH-UA-Mobile` and `Sec-CH-UA-Platform` (undefined when not sent); `ip` is the
   * request's (`request.ip`: trustProxy decides), checked against a crawler's published ranges.
   */
  classify (eventUserAgent: string, mobile: string | undefined, platform: string | undefined, ip = ''): Readonly<ClientInfo> {
    const userAgent = parsedPart(eventUserAgent)
    let entry = this.#cache.get(userAgent)
    if (entry === undefined) {
      const { client, crawler } = parse(userAgent, this.#detectBots)
      entry = { client, crawler, variants: undefined }
      this.#cache.set(userAgent, entry)
    }
    const client = entry.client
    if (entry.crawler !== undefined) return withCrawler(entry, crawlerFor(entry.crawler, ip))
    if (client.bot || (mobile === undefined && platform === undefined)) return client
    return withHints(client, mobile, platform)
  }
}

/** The cached client with this request's crawler answer: at most three objects per User-Agent, made once. */
function withCrawler (entry: CacheEntry, crawler: Readonly<CrawlerInfo>): Readonly<ClientInfo> {
  if (entry.client.crawler === crawler) return entry.client
  entry.variants ??= new Map()
  let client = entry.variants.get(crawler)
  if (client === undefined) {
    client = Object.freeze({ ...entry.client, crawler })
    entry.variants.set(crawler, client)
  }
  return client
}

/** Chrome's reduced User-Agent hides the platform (`Android 10; K`): the hints say what it is. */
function withHints (client: Readonly<ClientInfo>, mobile: string | undefined, platform: string | undefined): Readonly<ClientInfo> {
  let { os, osVersion, device } = client
  const hinted = platform === undefined ? undefined : HINT_PLATFORMS.get(platform.trim().toLowerCase())
  if (hinted !== undefined && hinted !== os) {
    os = hinted
    osVersion = ''
  }
  // `?1`: the browser asks for the mobile experience; a tablet says `?0`, so only '' and desktop change.
  if (mobile === '?1' && (device === '' || device === 'desktop')) device = 'mobile'
  else if (mobile === '?0' && device === '') device = 'desktop'
  if (os === client.os && device === client.device) return client
  return { ...client, os, osVersion, device }
}
