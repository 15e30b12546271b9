// STUB: the interface the visits layer codes against; the attribution work replaces the bodies.
import type { Attribution } from './types.js'

export type { Attribution, Channel, ClickNetwork } from './types.js'

/** What a request with neither campaign nor external referrer is. */
export const DIRECT: Readonly<Attribution> = Object.freeze({
  channel: 'Direct', source: '(direct)', medium: '(none)', campaign: '', term: '', content: '', clickId: ''
})

/**
 * Where one request says its visitor came from.
 * @param url the request URL as received (`/path?query`, or absolute), before any privacy rule
 * @param referrer the raw Referer header ('' when none)
 * @param siteHost the request's hostname: a referrer on it (or its `www.` twin) is not a source
 * @returns DIRECT (the same frozen object) when the request carries neither campaign nor external referrer
 */
export function attribute (url: string, referrer: string, siteHost: string): Readonly<Attribution> {
  void url; void referrer; void siteHost
  return DIRECT
}

/** True when the referrer's host (or a parent domain of it) is on the referrer-spam list. */
export function isReferrerSpam (referrer: string): boolean {
  void referrer
  return false
}
