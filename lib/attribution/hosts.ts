// Which search engine, social network, AI assistant, video or shopping site a host is, from the
// vendored Matomo lists (data/referrers.ts) and the hand-written rows in sources.ts. Built once at
// load: about 1 300 host patterns into three Maps (~150 KB).
import { AI_ASSISTANTS, SEARCH_ENGINES, SOCIAL_NETWORKS } from './data/referrers.js'
import { ORIGIN_SEARCH_ENGINES, SHOPPING_SITES, SOURCE_ALIASES, VIDEO_SITES, type SourceKind, type SourceRow } from './sources.js'

/** A named place a referrer can come from. */
export interface KnownSource {
  readonly name: string
  readonly kind: Exclude<SourceKind, ''>
  /**
   * For a search engine that counts only with a keyword in the referrer (Matomo's rule for a host
   * that also serves other pages, such as a portal with a Google-powered search box): its
   * parameters. Empty when any referrer from the host counts.
   */
  readonly keywordParams: readonly string[]
}

const NO_PARAMS: readonly string[] = Object.freeze([])

// Keys drop a leading `www.`: `www.facebook.com` and `facebook.com` are one site, whichever list
// spells which (Matomo's search list has `www.facebook.com`, its social list `facebook.com`).
// Built at the first lookup, not at import: a few thousand rows are off the app's cold start.
interface HostTables {
  exactHosts: Map<string, KnownSource>
  /** `google.{}`: keyed by what comes before the top-level domain (`google`). */
  anyTldHosts: Map<string, KnownSource>
  /** `{}.bing.com`: keyed by the parent domain (`bing.com`). */
  anySubdomainHosts: Map<string, KnownSource>
  /** Lower-case names and aliases, for a campaign's `utm_source` (a host-like one is read as a host). */
  sourceKinds: Map<string, Exclude<SourceKind, ''>>
}

let built: HostTables | undefined

function tables (): HostTables {
  if (built !== undefined) return built
  const t: HostTables = { exactHosts: new Map(), anyTldHosts: new Map(), anySubdomainHosts: new Map(), sourceKinds: new Map() }
  const addRow = (name: string, patterns: string, kind: Exclude<SourceKind, ''>, keywordParams: readonly string[]): void => {
    const source: KnownSource = Object.freeze({ name, kind, keywordParams })
    // The first row to claim a host or name keeps it: rows are added from the most specific kind.
    if (!t.sourceKinds.has(name.toLowerCase())) t.sourceKinds.set(name.toLowerCase(), kind)
    for (const pattern of patterns.split(' ')) {
      if (pattern.endsWith('.{}')) {
        const base = withoutWww(pattern.slice(0, -3))
        if (base.includes('{}')) continue // `images.{}.ask.com`: a wildcard in the middle, too rare to carry
        if (!t.anyTldHosts.has(base)) t.anyTldHosts.set(base, source)
      } else if (pattern.startsWith('{}.')) {
        const parent = pattern.slice(3)
        if (!t.anySubdomainHosts.has(parent)) t.anySubdomainHosts.set(parent, source)
      } else if (!pattern.includes('{}')) {
        const host = withoutWww(pattern)
        if (!t.exactHosts.has(host)) t.exactHosts.set(host, source)
      }
    }
  }
  const addRows = (rows: readonly SourceRow[], kind: Exclude<SourceKind, ''>): void => {
    for (const [name, patterns] of rows) addRow(name, patterns, kind, NO_PARAMS)
  }
  // Precedence where the lists overlap: an AI assistant (ChatGPT is also a search engine in
  // Matomo's list) before a video or shopping site (YouTube is also a social network there), those
  // before a social network, and a search engine last.
  addRows(AI_ASSISTANTS, 'ai')
  addRows(VIDEO_SITES, 'video')
  addRows(SHOPPING_SITES, 'shopping')
  addRows(SOCIAL_NETWORKS, 'social')
  addRows(ORIGIN_SEARCH_ENGINES, 'search')
  for (const [name, patterns, params] of SEARCH_ENGINES) {
    addRow(name, patterns, 'search', params === '*' ? NO_PARAMS : Object.freeze(params.split(' ')))
  }
  for (const [alias, kind] of SOURCE_ALIASES) if (kind !== '' && !t.sourceKinds.has(alias)) t.sourceKinds.set(alias, kind)
  built = t
  return t
}

/** `www.example.com` → `example.com`. */
export function withoutWww (host: string): string {
  return host.startsWith('www.') ? host.slice(4) : host
}

// The second-level labels under which country registries sell names (`co.uk`, `com.br`, `ne.jp`).
// Only these count as a two-label top-level domain: `google.evil.com` must not be Google.
const COUNTRY_SECOND_LEVEL = /^(?:co|com|net|org|gov|edu|ac|ne|or|go|gob|nic|mil)\.[a-z]{2}$/

function byAnyTld (host: string): KnownSource | undefined {
  // The top-level domain is one label (`.de`) or a country's second level (`.co.uk`): both are
  // tried rather than carrying the public suffix list for a rule that only needs these two shapes.
  const last = host.lastIndexOf('.')
  if (last <= 0) return undefined
  const { anyTldHosts } = tables()
  const found = anyTldHosts.get(host.slice(0, last))
  if (found !== undefined) return found
  const before = host.lastIndexOf('.', last - 1)
  if (before <= 0 || !COUNTRY_SECOND_LEVEL.test(host.slice(before + 1))) return undefined
  return anyTldHosts.get(host.slice(0, before))
}

/**
 * The named source a lower-case host belongs to, or undefined. Exact hosts (`www.` or not) first,
 * then `name.{}` patterns, then parent domains: `l.facebook.com` is Facebook. A search engine is
 * matched through a parent domain only by a `{}.name` pattern: `docs.google.com` is not Google Search.
 */
export function sourceOfHost (host: string): KnownSource | undefined {
  const { exactHosts, anySubdomainHosts } = tables()
  const bare = withoutWww(host)
  const direct = exactHosts.get(bare) ?? byAnyTld(bare)
  if (direct !== undefined) return direct
  let parent = bare
  for (let dot = parent.indexOf('.'); dot > 0 && parent.indexOf('.', dot + 1) > 0; dot = parent.indexOf('.')) {
    parent = parent.slice(dot + 1)
    const found = anySubdomainHosts.get(parent) ?? exactHosts.get(parent) ?? byAnyTld(parent)
    if (found !== undefined && (found.kind !== 'search' || anySubdomainHosts.get(parent) === found)) return found
  }
  return undefined
}

/** The kind of a campaign's source as written (`google`, `Facebook`, `m.facebook.com`, `fb`), or ''. */
export function kindOfSourceName (source: string): SourceKind {
  const lower = source.toLowerCase()
  const named = tables().sourceKinds.get(lower)
  if (named !== undefined) return named
  return lower.includes('.') ? sourceOfHost(lower)?.kind ?? '' : ''
}
