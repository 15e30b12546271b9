/**
 * Why a crawler fetches pages (docs/crawlers.md): `search` (a search engine's index), `ai-training`
 * (text for a model), `ai-assistant` (a fetch for one user's question: ChatGPT-User, Claude-User,
 * Perplexity-User), `ai-search` (an AI search engine's index), `seo`, `monitoring`, `preview` (link
 * unfurlers), `feed`, `archive`, `scanner`, `library` (curl, python-requests, Go's client…),
 * `unknown`.
 */
export type CrawlerPurpose =
  | 'search' | 'ai-training' | 'ai-assistant' | 'ai-search' | 'seo' | 'monitoring' | 'preview'
  | 'feed' | 'archive' | 'scanner' | 'library' | 'unknown'

/** Every purpose, in the order `stats().events.crawlers.byPurpose` lists them. */
export const CRAWLER_PURPOSES: readonly CrawlerPurpose[] = [
  'search', 'ai-training', 'ai-assistant', 'ai-search', 'seo', 'monitoring', 'preview',
  'feed', 'archive', 'scanner', 'library', 'unknown'
]

/** A request `isbot` flagged, named. `event.client.crawler` is `null` for every other request. */
export interface CrawlerInfo {
  /** `Googlebot`, `GPTBot`, `ClaudeBot`, `curl`, …; '' when nothing names it (an empty User-Agent, an unknown bot). */
  name: string
  /** Who runs it: `Google`, `OpenAI`, `Anthropic`, …; '' when not known. */
  operator: string
  purpose: CrawlerPurpose
  /**
   * `true`: the client IP is in the ranges the operator publishes for this crawler; `false`: it is
   * not (a spoof: something else claims the name); `null`: no published ranges for it are vendored.
   */
  verified: boolean | null
}
