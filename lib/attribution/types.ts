/**
 * The channel of a visit, after Google Analytics 4's default channel group (plus `AI Assistants`,
 * as Plausible counts it). The names are exactly GA4's, so reports line up with GA4's.
 */
export type Channel =
  | 'Direct'
  | 'Organic Search'
  | 'Paid Search'
  | 'Organic Social'
  | 'Paid Social'
  | 'Email'
  | 'Referral'
  | 'AI Assistants'
  | 'Affiliates'
  | 'Display'
  | 'Organic Video'
  | 'Paid Video'
  | 'Organic Shopping'
  | 'Paid Shopping'
  | 'Paid Other'
  | 'Cross-network'
  | 'SMS'
  | 'Mobile Push Notifications'
  | 'Audio'
  | 'Unassigned'

/** The ad network a click id in the landing URL belongs to (`gclid` → `google`, …); `''` for none. */
export type ClickNetwork = 'google' | 'microsoft' | 'meta' | 'tiktok' | 'linkedin' | 'x'

/** Where one request says its visitor came from: its campaign parameters and its referrer. */
export interface Attribution {
  channel: Channel
  /** `(direct)`, a named source (`Google`, `ChatGPT`), a referring host without `www.`, or `utm_source`. */
  source: string
  /** `(none)` for direct, `organic`, `referral`, or `utm_medium` as given. */
  medium: string
  campaign: string
  term: string
  content: string
  clickId: ClickNetwork | ''
}
