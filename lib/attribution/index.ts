// Where a request says its visitor came from: the campaign in its URL and the site in its Referer,
// as source, medium and GA4 channel. Pure functions over vendored data: nothing here does I/O.
import { StringMemo } from '../util.js'
import { readCampaign, type CampaignParams } from './campaign.js'
import { channelOf } from './channel.js'
import { kindOfSourceName, withoutWww } from './hosts.js'
import { confirmKeyword, hostOf, originOf, readReferrerOrigin, type ReferrerSource } from './referrer.js'
import { isPaymentHost, type SourceKind } from './sources.js'
import { isSpamHost } from './spam.js'
import type { Attribution, ClickNetwork } from './types.js'

export type { Attribution, Channel, ClickNetwork } from './types.js'
export { MAX_CAMPAIGN_VALUE_LENGTH } from './campaign.js'

/** What a request with neither campaign nor external referrer is. */
export const DIRECT: Readonly<Attribution> = Object.freeze({
  channel: 'Direct', source: '(direct)', medium: '(none)', campaign: '', term: '', content: '', clickId: ''
})

/**
 * Referring origins remembered: a returning visitor's external referrer costs a Map hit instead
 * of a URL parse and list lookup (~1–5 µs). Keyed by origin (not the whole referrer), so a site
 * linking from many pages is one entry. Worst case 2 048 × (a 256-character key, up to 512 B, plus
 * ~400 B for the entry and its frozen attribution) ≈ 2 MB.
 */
const DEFAULT_REFERRER_CACHE_SIZE = 2048
/** Longer origins are classified every time rather than held (a real host is far shorter). */
const MAX_REFERRER_CACHE_KEY_LENGTH = 256

/** A referring origin read, with the attribution it gives a request without campaign. */
interface ReferrerEntry {
  readonly source: ReferrerSource
  /** A payment provider's page: the buyer's return from it is not a new source. */
  readonly payment: boolean
  /** On the referrer-spam list (the host or a parent domain). */
  readonly spam: boolean
  /** null when it depends on more than the origin (a search engine that needs a keyword). */
  readonly alone: Readonly<Attribution> | null
}

function readReferrerEntry (origin: string): ReferrerEntry {
  const source = readReferrerOrigin(origin)
  const fixed = source.host !== '' && source.keywordParams.length === 0
  const host = hostOf(origin)
  return {
    source,
    payment: source.host !== '' && isPaymentHost(source.host),
    spam: host !== '' && isSpamHost(host),
    alone: fixed ? describe(null, source) : null
  }
}

const referrerOrigins = new StringMemo<ReferrerEntry>(readReferrerEntry, DEFAULT_REFERRER_CACHE_SIZE, MAX_REFERRER_CACHE_KEY_LENGTH)

/** The source a click id names when neither `utm_source` nor a known referrer does. */
const CLICK_SOURCES: Readonly<Record<ClickNetwork, string>> = {
  google: 'Google',
  microsoft: 'Bing',
  meta: 'Facebook',
  tiktok: 'TikTok',
  linkedin: 'LinkedIn',
  x: 'Twitter' // Matomo's name for x.com and t.co, so clicks and referrers share one source
}

/**
 * Click ids their networks add to ad clicks only. Meta adds `fbclid` to every outbound link,
 * organic posts included, and X's `twclid` is not documented as ad-only: neither makes a visit paid.
 */
const PAID_CLICK_NETWORKS: ReadonlySet<ClickNetwork | ''> = new Set<ClickNetwork>(['google', 'microsoft', 'tiktok', 'linkedin'])

/** True when the referrer's host is `siteHost` or its `www.` twin: read off the string, no parsing. */
function isSameSite (referrer: string, siteHost: string): boolean {
  const at = referrer.startsWith('https://') ? 8 : referrer.startsWith('http://') ? 7 : -1
  if (at < 0 || siteHost === '') return false
  return hostIsAt(referrer, at, siteHost) ||
    (siteHost.startsWith('www.') ? hostIsAt(referrer, at, siteHost.slice(4)) : hostIsAt(referrer, at, `www.${siteHost}`))
}

function hostIsAt (referrer: string, at: number, host: string): boolean {
  if (!referrer.startsWith(host, at)) return false
  const next = referrer.charCodeAt(at + host.length)
  // The host ends there: end of string, '/', '?', '#' or ':' (a port).
  return Number.isNaN(next) || next === 0x2f || next === 0x3f || next === 0x23 || next === 0x3a
}

/**
 * A link on the site's own pages: a `?ref=navbar` or `?source=footer` tag there names a place on the
 * site, not where the visitor came from, so it is Direct (it must not start a visit). A real
 * campaign (UTM medium/name, a click id) on an internal link still counts, as GA4 counts it.
 */
function internal (campaign: CampaignParams | null): Readonly<Attribution> {
  if (campaign === null) return DIRECT
  if (campaign.sourceIsRefTag && campaign.medium === '' && campaign.campaign === '' && campaign.term === '' &&
    campaign.content === '' && campaign.clickId === '') return DIRECT
  return describe(campaign, null)
}

/**
 * Where one request says its visitor came from.
 * @param url the request URL as received (`/path?query`, or absolute), before any privacy rule
 * @param referrer the raw Referer header ('' when none)
 * @param siteHost the request's hostname: a referrer on it (or its `www.` twin) is not a source
 * @returns DIRECT (the same frozen object) when the request carries neither campaign nor external referrer
 */
export function attribute (url: string, referrer: string, siteHost: string): Readonly<Attribution> {
  const campaign = readCampaign(url)
  if (referrer === '') return campaign === null ? DIRECT : describe(campaign, null)
  // The same-site test on the string first: a visitor's every internal page view takes this way.
  if (isSameSite(referrer, siteHost)) return internal(campaign)
  const entry = referrerOrigins.get(originOf(referrer))
  if (entry.source.host === '' || entry.payment || entry.source.host === withoutWww(siteHost.toLowerCase())) return internal(campaign)
  if (campaign === null && entry.alone !== null) return entry.alone
  return describe(campaign, confirmKeyword(entry.source, referrer))
}

function describe (campaign: CampaignParams | null, from: ReferrerSource | null): Readonly<Attribution> {
  const clickId = campaign?.clickId ?? ''
  let source: string
  let kind: SourceKind
  // A campaign's own source first (GA4 reads UTM before the referrer), then the referrer, then
  // the network of a click id (an ad click whose referrer the browser withheld).
  if (campaign !== null && campaign.source !== '') {
    source = campaign.source
    kind = kindOfSourceName(source)
  } else if (from !== null) {
    source = from.name
    kind = from.kind
  } else if (clickId !== '') {
    source = CLICK_SOURCES[clickId]
    kind = kindOfSourceName(source)
  } else {
    source = '(direct)'
    kind = ''
  }
  let medium: string
  if (campaign !== null && campaign.medium !== '') medium = campaign.medium
  else if (PAID_CLICK_NETWORKS.has(clickId)) medium = 'cpc' // what GA4 records for an auto-tagged Google Ads click
  else if (campaign !== null && campaign.source !== '') medium = campaign.sourceIsRefTag ? 'referral' : '(not set)'
  else if (from !== null) medium = from.kind === 'search' ? 'organic' : 'referral'
  else if (clickId !== '') medium = 'referral' // fbclid/twclid without a referrer: a link on that network
  else medium = '(none)'
  const campaignName = campaign?.campaign ?? ''
  return Object.freeze({
    channel: channelOf({ source: source.toLowerCase(), kind, medium: medium.toLowerCase(), campaign: campaignName.toLowerCase() }),
    source,
    medium,
    campaign: campaignName,
    term: campaign?.term ?? '',
    content: campaign?.content ?? '',
    clickId
  })
}

/** True when the referrer's host (or a parent domain of it) is on the referrer-spam list. */
export function isReferrerSpam (referrer: string): boolean {
  // The same memo as attribute(): one entry per referring origin answers both.
  return referrer !== '' && referrerOrigins.get(originOf(referrer)).spam
}
