import { EventType } from '../event.js'
import type { PageViewsMode, RouteDescriptor } from '../options.js'
import type { SkipReason } from './counters.js'

/** The options classification reads. */
export interface ClassifySettings {
  pageViews: PageViewsMode
  actions: boolean
}

/**
 * The automatic event's type, or why there is none, from what the request thread knows once the
 * response is out: the route's config, the method, whether a route matched, the response's
 * Content-Type. It runs where the request is captured, in both delivery modes: it decides whether
 * there is anything to capture at all (most requests of most apps yield no event, and posting them
 * to the worker to learn that would cost more than this answer).
 */
export function classifyRequest (method: string, is404: boolean, contentType: unknown, descriptor: RouteDescriptor, settings: ClassifySettings): EventType | SkipReason {
  if (descriptor.disabled) return 'ignored'
  // A 404 for a GET may be a page (a broken link); a POST to nowhere is a probe, not an action.
  if (method !== 'GET' && is404) return 'noRoute'
  if (descriptor.type === EventType.PageView) return settings.pageViews !== false ? EventType.PageView : 'ignored'
  if (descriptor.type === EventType.Action) return settings.actions ? EventType.Action : 'ignored'
  switch (method) {
    case 'GET':
      if (settings.pageViews === false) return 'ignored'
      return settings.pageViews === 'all' || isHtml(contentType) ? EventType.PageView : 'notPage'
    case 'POST':
    case 'PUT':
    case 'PATCH':
    case 'DELETE': return settings.actions ? EventType.Action : 'ignored'
    default: return 'notPage'
  }
}

// `text/html; charset=utf-8`, any case; XHTML pages are pages too.
const HTML_TYPE = /^\s*(?:text\/html|application\/xhtml\+xml)\s*(?:;|$)/i

// An app sends its HTML with one Content-Type string, mostly the same constant: a hit skips the regex.
let lastHtmlType = ''

function isHtml (contentType: unknown): boolean {
  if (typeof contentType !== 'string') return false
  if (contentType === lastHtmlType) return true
  if (!HTML_TYPE.test(contentType)) return false
  lastHtmlType = contentType
  return true
}

/**
 * `Sec-Purpose: prefetch` (Chrome, Firefox; `prefetch;prerender` for Chrome's prerender) and the
 * older `Purpose: prefetch`: the visitor may never see the page, so it is no page view.
 */
export function isPrefetch (purpose: string): boolean {
  return purpose !== '' && purpose.toLowerCase().includes('prefetch')
}
