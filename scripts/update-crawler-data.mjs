#!/usr/bin/env node
// Regenerates the vendored crawler data:
//   node scripts/update-crawler-data.mjs [--from <dir>] [output root]
// - lib/crawlers/data/patterns.ts from the installed `crawler-user-agents` package (MIT, a
//   devDependency: the package ships the compact table, not the 1 500 entries with their examples);
// - lib/crawlers/data/ranges.ts from the operators' published IP-range files. Without --from they
//   are downloaded from the operators' URLs below (the only step that needs the network); with
//   --from, read from <dir>/<file> (the same JSON, e.g. saved from a mirror), with the provenance of
//   each file in <dir>/provenance.json ({ "<key>": { "via": "where it was taken from", "date": "YYYY-MM-DD" } }).
//   A file that cannot be had is left out and reported: its crawlers are then unverifiable (null).
// The output is committed: vendored data that the package ships, so nothing downloads at run time.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'

const args = process.argv.slice(2)
let from
const fromAt = args.indexOf('--from')
if (fromAt !== -1) {
  from = args[fromAt + 1]
  args.splice(fromAt, 2)
  if (from === undefined) {
    console.error('usage: node scripts/update-crawler-data.mjs [--from <dir>] [output root]')
    process.exit(2)
  }
}
// The output root is the package by default; the tests point it at a temporary copy.
const root = args[0] === undefined ? new URL('../', import.meta.url) : pathToFileURL(`${args[0].replace(/\/$/, '')}/`)
const today = new Date().toISOString().slice(0, 10)

/** A JavaScript string literal in the project's style (single quotes). */
function literal (text) {
  return `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`
}

/** Plain data as JavaScript in the project's style: single quotes, unquoted keys, spaced arrays. */
function source (value, indent = '') {
  if (typeof value === 'string') return literal(value)
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]'
    if (value.every((v) => typeof v !== 'object')) return `[${value.map((v) => source(v)).join(', ')}]`
    return `[\n${value.map((v) => `${indent}  ${source(v, `${indent}  `)}`).join(',\n')}\n${indent}]`
  }
  if (value !== null && typeof value === 'object') {
    return `{\n${Object.entries(value).map(([k, v]) => `${indent}  ${k}: ${source(v, `${indent}  `)}`).join(',\n')}\n${indent}}`
  }
  return String(value)
}

/** The published range files: `key` is what lib/crawlers/catalogue.ts names a crawler's ranges by. */
const SOURCES = [
  { key: 'google-common', operator: 'Google', url: 'https://developers.google.com/static/search/apis/ipranges/googlebot.json' },
  { key: 'google-special', operator: 'Google', url: 'https://developers.google.com/static/search/apis/ipranges/special-crawlers.json' },
  { key: 'google-user-triggered', operator: 'Google', url: 'https://developers.google.com/static/search/apis/ipranges/user-triggered-fetchers-google.json' },
  { key: 'bingbot', operator: 'Microsoft', url: 'https://www.bing.com/toolbox/bingbot.json' },
  { key: 'openai-gptbot', operator: 'OpenAI', url: 'https://openai.com/gptbot.json' },
  { key: 'openai-searchbot', operator: 'OpenAI', url: 'https://openai.com/searchbot.json' },
  { key: 'openai-chatgpt-user', operator: 'OpenAI', url: 'https://openai.com/chatgpt-user.json' },
  { key: 'perplexitybot', operator: 'Perplexity', url: 'https://www.perplexity.com/perplexitybot.json' },
  { key: 'perplexity-user', operator: 'Perplexity', url: 'https://www.perplexity.com/perplexity-user.json' },
  { key: 'applebot', operator: 'Apple', url: 'https://search.developer.apple.com/applebot.json' },
  { key: 'duckduckbot', operator: 'DuckDuckGo', url: 'https://duckduckgo.com/duckduckbot.json' },
  { key: 'commoncrawl', operator: 'Common Crawl', url: 'https://index.commoncrawl.org/ccbot.json' },
  // One list for all of Anthropic's crawlers: it does not say which range is which bot.
  { key: 'anthropic', operator: 'Anthropic', url: 'https://claude.com/crawling/bots.json' }
]

// crawler-user-agents' tags, as the purposes of issue 24 (docs/crawlers.md). Tags with no purpose
// of their own (advertising, academic) leave it `unknown`; the first tag that maps wins.
const TAG_PURPOSES = {
  'ai-crawler': 'ai-training',
  'search-engine': 'search',
  seo: 'seo',
  monitoring: 'monitoring',
  'social-preview': 'preview',
  'feed-reader': 'feed',
  archiver: 'archive',
  scanner: 'scanner',
  'http-library': 'library',
  'browser-automation': 'library'
}

/** A display name for a pattern: what it matched in its first example, trimmed of separators; else the pattern without regex syntax. */
function patternName (entry) {
  let name = ''
  try {
    const match = new RegExp(entry.pattern).exec(entry.instances?.[0] ?? '')
    if (match !== null) name = match[0]
  } catch {}
  if (name === '') name = entry.pattern.replace(/\\(.)/g, '$1').replace(/[[\]^$()?*+|{}]/g, '')
  return name.replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '').slice(0, 64)
}

function patterns () {
  // The package exports its JSON as `require('crawler-user-agents')`; its package.json is read beside it.
  const require = createRequire(import.meta.url)
  const file = require.resolve('crawler-user-agents')
  const version = JSON.parse(readFileSync(join(file, '..', 'package.json'), 'utf8')).version
  const entries = JSON.parse(readFileSync(file, 'utf8'))
  const rows = []
  for (const entry of entries) {
    try {
      // eslint-disable-next-line no-new
      new RegExp(entry.pattern, 'i')
    } catch {
      continue // the package validates its patterns; one JavaScript refuses is left out, not guessed at
    }
    const purpose = (entry.tags ?? []).map((tag) => TAG_PURPOSES[tag]).find((p) => p !== undefined) ?? 'unknown'
    rows.push([entry.pattern, patternName(entry), purpose])
  }
  const text = `// GENERATED by scripts/update-crawler-data.mjs: do not edit, run the script.
// From the npm package crawler-user-agents ${version} (MIT, https://github.com/monperrus/crawler-user-agents).
// Vendored data, committed on purpose: the package ships it and nothing downloads it.
import type { CrawlerPurpose } from '../types.js'

/** Where this data comes from. */
export const PATTERN_DATA_SOURCE = { package: 'crawler-user-agents', version: '${version}', license: 'MIT' } as const

/** Pattern (a case-sensitive regular expression, as the package gives it), name, purpose: in the package's order. */
export const CRAWLER_PATTERNS: ReadonlyArray<readonly [pattern: string, name: string, purpose: CrawlerPurpose]> = [
${rows.map((row) => `  ${source(row)}`).join(',\n')}
]
`
  writeFileSync(new URL('lib/crawlers/data/patterns.ts', root), text)
  console.log(`patterns: ${rows.length} of ${entries.length} from crawler-user-agents ${version}`)
}

async function readSource (source) {
  if (from !== undefined) {
    const path = join(from, new URL(source.url).pathname.split('/').pop())
    if (!existsSync(path)) return undefined
    const provenance = JSON.parse(readFileSync(join(from, 'provenance.json'), 'utf8'))[source.key]
    if (provenance === undefined) throw new Error(`${path}: no provenance recorded in ${join(from, 'provenance.json')}`)
    return { json: JSON.parse(readFileSync(path, 'utf8')), via: provenance.via, date: provenance.date }
  }
  try {
    const response = await fetch(source.url, { signal: AbortSignal.timeout(30_000) })
    if (!response.ok) throw new Error(`HTTP ${response.status}`)
    return { json: await response.json(), via: source.url, date: today }
  } catch (error) {
    console.error(`${source.url}: ${error.message}`)
    return undefined
  }
}

/** The prefixes of a Google-style file ({ creationTime, prefixes: [{ ipv4Prefix } | { ipv6Prefix }] }), checked. */
function prefixes (json, url) {
  if (json === null || typeof json !== 'object' || !Array.isArray(json.prefixes)) throw new Error(`${url}: no "prefixes" array`)
  const v4 = []
  const v6 = []
  for (const prefix of json.prefixes) {
    const cidr = prefix.ipv4Prefix ?? prefix.ipv6Prefix
    if (typeof cidr !== 'string' || !/^[0-9a-fA-F.:]+\/\d{1,3}$/.test(cidr)) throw new Error(`${url}: bad prefix ${JSON.stringify(prefix)}`)
    ;(cidr.includes(':') ? v6 : v4).push(cidr.toLowerCase())
  }
  return { v4: [...new Set(v4)].sort(), v6: [...new Set(v6)].sort(), published: typeof json.creationTime === 'string' ? json.creationTime : '' }
}

async function ranges () {
  const lists = []
  const missing = []
  for (const source of SOURCES) {
    const read = await readSource(source)
    if (read === undefined) {
      missing.push(source)
      continue
    }
    const { v4, v6, published } = prefixes(read.json, source.url)
    lists.push({ key: source.key, operator: source.operator, url: source.url, via: read.via, obtained: read.date, published, v4: v4.join(' '), v6: v6.join(' ') })
    console.log(`ranges ${source.key}: ${v4.length} IPv4, ${v6.length} IPv6 (published ${published || 'undated'})`)
  }
  for (const source of missing) console.log(`ranges ${source.key}: not vendored (${source.url} could not be read)`)
  const text = `// GENERATED by scripts/update-crawler-data.mjs: do not edit, run the script.
// The operators' published crawler IP ranges (facts published for exactly this use; each list says
// where it was published, where this copy was taken from, and when). Vendored on purpose: the
// package ships them and nothing downloads them at run time.

/** One published list: CIDRs separated by spaces. */
export interface PublishedRanges {
  key: string
  operator: string
  /** Where the operator publishes it. */
  url: string
  /** Where this copy was taken from (the URL itself, or a mirror of it at a commit). */
  via: string
  /** The day it was taken (YYYY-MM-DD). */
  obtained: string
  /** The file's own \`creationTime\`; '' when it has none. */
  published: string
  v4: string
  v6: string
}

export const PUBLISHED_RANGES: readonly PublishedRanges[] = ${source(lists)}

/** Lists the refresh script knows but could not read last time: their crawlers' \`verified\` is null until it can. */
export const RANGES_NOT_VENDORED: ReadonlyArray<{ key: string, operator: string, url: string }> = ${source(missing.map(({ key, operator, url }) => ({ key, operator, url })))}
`
  writeFileSync(new URL('lib/crawlers/data/ranges.ts', root), text)
}

patterns()
await ranges()
