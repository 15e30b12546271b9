// The campaign a landing URL carries: UTM parameters, `ref`/`source`, and ad-network click ids.
import { boundText, UNCOUNTED } from '../text.js'
import type { ClickNetwork } from './types.js'

/**
 * The longest campaign value kept, in code points (longer values are cut): GA4 itself keeps 100
 * characters of a campaign field; 256 leaves room for a long `utm_content` while a visit's seven
 * fields stay under 4 KB whatever a link carries.
 */
export const MAX_CAMPAIGN_VALUE_LENGTH = 256

/** What a landing URL's query says about its campaign; '' for what it does not carry. */
export interface CampaignParams {
  /** `utm_source`, else `ref`, else `source`. */
  source: string
  /** True when `source` came from `ref` or `source` (a link's referral tag), not from `utm_source`. */
  sourceIsRefTag: boolean
  medium: string
  campaign: string
  term: string
  content: string
  clickId: ClickNetwork | ''
}

// A Map, not an object literal: a parameter named `constructor` must find nothing.
const CLICK_IDS: ReadonlyMap<string, ClickNetwork> = new Map([
  ['gclid', 'google'],
  ['gbraid', 'google'],
  ['wbraid', 'google'],
  ['msclkid', 'microsoft'],
  ['fbclid', 'meta'],
  ['ttclid', 'tiktok'],
  ['li_fat_id', 'linkedin'],
  ['twclid', 'x']
])

// Most queries (`?page=2`) carry none of these: one regex test spares them URLSearchParams
// (0.5–0.9 µs). Names compare without case, as GA4 reads them; a name spelled with percent
// escapes is not recognised (URLSearchParams would decode it, this pre-check does not).
const MAY_CARRY_CAMPAIGN = /(?:^|[&;])(?:utm_(?:source|medium|campaign|term|content)|gclid|gbraid|wbraid|msclkid|fbclid|ttclid|li_fat_id|twclid|ref|source)=/i

// A campaign value is text from the URL like any event field: bounded by the same rule (valid
// Unicode, no NUL: `?utm_campaign=a%00b` decodes to a NUL), cut without being counted, since the
// URL the value came from is the field that carries the full text.
function clean (value: string): string {
  return boundText(value.trim(), MAX_CAMPAIGN_VALUE_LENGTH, 'campaign', UNCOUNTED)
}

/**
 * The campaign of a request URL (`/path?query` or absolute), or null when its query carries none.
 * The first non-empty occurrence of each parameter wins.
 */
export function readCampaign (url: string): CampaignParams | null {
  const start = url.indexOf('?')
  if (start < 0) return null
  // Request targets carry no fragment, but an absolute URL handed in by a caller might.
  const hash = url.indexOf('#')
  if (hash >= 0 && hash < start) return null
  const query = hash < 0 ? url.slice(start + 1) : url.slice(start + 1, hash)
  if (!MAY_CARRY_CAMPAIGN.test(query)) return null
  let utmSource = ''
  let refTag = ''
  let sourceTag = ''
  const found: CampaignParams = { source: '', sourceIsRefTag: false, medium: '', campaign: '', term: '', content: '', clickId: '' }
  for (const [name, raw] of new URLSearchParams(query)) {
    const value = clean(raw)
    if (value === '') continue
    switch (name.toLowerCase()) {
      case 'utm_source': if (utmSource === '') utmSource = value; break
      case 'utm_medium': if (found.medium === '') found.medium = value; break
      case 'utm_campaign': if (found.campaign === '') found.campaign = value; break
      case 'utm_term': if (found.term === '') found.term = value; break
      case 'utm_content': if (found.content === '') found.content = value; break
      case 'ref': if (refTag === '') refTag = value; break
      case 'source': if (sourceTag === '') sourceTag = value; break
      default: {
        const network = CLICK_IDS.get(name.toLowerCase())
        if (network !== undefined && found.clickId === '') found.clickId = network
      }
    }
  }
  found.source = utmSource !== '' ? utmSource : refTag !== '' ? refTag : sourceTag
  found.sourceIsRefTag = utmSource === '' && found.source !== ''
  const any = found.source !== '' || found.medium !== '' || found.campaign !== '' || found.term !== '' ||
    found.content !== '' || found.clickId !== ''
  return any ? found : null
}
