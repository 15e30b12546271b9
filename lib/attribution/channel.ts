// The channel of a source/medium/campaign, written from Google's published definitions of the GA4
// default channel group (https://support.google.com/analytics/answer/9756891), evaluated in the
// order Google lists them, first match wins, without regard to case (as GA4 compares them).
// Our one addition, `AI Assistants`, sits after the paid channels and before the organic ones: a
// paid campaign on an assistant is still paid; an assistant's link is not a referral.
import type { Channel } from './types.js'
import type { SourceKind } from './sources.js'

// GA4: Medium matches regex ^(.*cp.*|ppc|retargeting|paid.*)$
const PAID_MEDIUM = /^(?:.*cp.*|ppc|retargeting|paid.*)$/
// GA4: Campaign Name matches regex ^(.*(([^a-df-z]|^)shop|shopping).*)$
const SHOPPING_CAMPAIGN = /^.*(?:(?:[^a-df-z]|^)shop|shopping).*$/
const DISPLAY_MEDIUMS = new Set(['display', 'banner', 'expandable', 'interstitial', 'cpm'])
const SOCIAL_MEDIUMS = new Set(['social', 'social-network', 'social-media', 'sm', 'social network', 'social media'])
const REFERRAL_MEDIUMS = new Set(['referral', 'app', 'link'])
const EMAIL_VALUES = new Set(['email', 'e-mail', 'e_mail', 'e mail'])
// GA4 names `affiliate`; its earlier definition also `affiliates`, which campaigns still use.
const AFFILIATE_MEDIUMS = new Set(['affiliate', 'affiliates'])

/** What the channel rules read, already lower case. */
export interface ChannelInput {
  source: string
  /** What the source is, from the lists (hosts.ts): GA4's "Source matches a list of … sites". */
  kind: SourceKind
  medium: string
  campaign: string
}

/** The GA4 default channel group of one source/medium/campaign (plus `AI Assistants`). */
export function channelOf ({ source, kind, medium, campaign }: ChannelInput): Channel {
  if (source === '(direct)' && (medium === '(none)' || medium === '(not set)')) return 'Direct'
  if (campaign.includes('cross-network')) return 'Cross-network'
  const paid = PAID_MEDIUM.test(medium)
  const shoppingCampaign = campaign !== '' && SHOPPING_CAMPAIGN.test(campaign)
  if (paid) {
    if (kind === 'shopping' || shoppingCampaign) return 'Paid Shopping'
    if (kind === 'search') return 'Paid Search'
    if (kind === 'social') return 'Paid Social'
    if (kind === 'video') return 'Paid Video'
  }
  if (DISPLAY_MEDIUMS.has(medium)) return 'Display'
  if (paid) return 'Paid Other'
  if (kind === 'ai') return 'AI Assistants'
  if (kind === 'shopping' || shoppingCampaign) return 'Organic Shopping'
  if (kind === 'social' || SOCIAL_MEDIUMS.has(medium)) return 'Organic Social'
  if (kind === 'video' || medium.includes('video')) return 'Organic Video'
  if (kind === 'search' || medium === 'organic') return 'Organic Search'
  if (REFERRAL_MEDIUMS.has(medium)) return 'Referral'
  if (EMAIL_VALUES.has(source) || EMAIL_VALUES.has(medium)) return 'Email'
  if (AFFILIATE_MEDIUMS.has(medium)) return 'Affiliates'
  if (medium === 'audio') return 'Audio'
  if (source === 'sms' || medium === 'sms') return 'SMS'
  if (medium.endsWith('push') || medium.includes('mobile') || medium.includes('notification') || source === 'firebase') {
    return 'Mobile Push Notifications'
  }
  return 'Unassigned'
}
