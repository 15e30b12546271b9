import type { BatchingOptions } from '../../batch/types.js'
import { parseHttpUrl } from '../../http/index.js'
import type { IpPolicy } from '../../privacy/ip.js'
import type { EngineWiring } from '../engine-collector.js'
import { BATCHING_OPTION_KEYS, checkCollectorOptions, eventsFilter, ipPolicyOption, NO_BOT_EVENTS, optionErrors, pickBatchingOptions, type CollectorEventsOption } from '../options.js'
import { MIXPANEL_MAX_EVENTS_PER_REQUEST } from './limits.js'

/** A Mixpanel service account (Organization Settings > Service Accounts), the way Mixpanel recommends for `/import`. */
export interface MixpanelServiceAccount {
  username: string
  secret: string
  /** The project's numeric id (Project Settings > Overview). */
  projectId: string | number
}

/** The options every Mixpanel collector takes, whatever authenticates it. */
export interface MixpanelBaseOptions extends BatchingOptions, CollectorEventsOption {
  /** The project token (Project Settings > Access Keys). Sent in every event; alone, it also authenticates `/import`. */
  projectToken: string
  /** The data residency of the project: `'us'` (default) api.mixpanel.com, `'eu'` api-eu.mixpanel.com, `'in'` api-in.mixpanel.com. */
  region?: 'us' | 'eu' | 'in'
  /** An origin (`scheme://host[:port]`, with an optional path prefix) that replaces Mixpanel's: a proxy, or a test server. */
  endpoint?: string
  /** Name in logs and `stats()`. Default {@link DEFAULT_MIXPANEL_NAME}. */
  name?: string
  /**
   * What of the visitor's IP goes in the `ip` property. Default `'full'`: Mixpanel uses it to derive
   * the city, region and country, and does not keep it. `'truncate'` (its /24 or /48) keeps a coarser
   * location; `'none'` sends none, and events carry no location but `mp_country_code` (the plugin's
   * country, when `geo` knows it).
   */
  ip?: IpPolicy
}

/**
 * `/import` is authenticated by a service account (recommended), the project's API secret (legacy),
 * or, with neither, the project token: at most one of the first two.
 */
export type MixpanelCollectorOptions = MixpanelBaseOptions & (
  | {
    /** A service account: `/import` is authenticated with it (Basic auth) and the project id. Never logged. */
    serviceAccount?: MixpanelServiceAccount
    apiSecret?: never
  }
  | {
    /** The project's API secret (legacy authentication, Basic auth). Never logged. */
    apiSecret?: string
    serviceAccount?: never
  }
)

export const DEFAULT_MIXPANEL_NAME = 'mixpanel'
export const MIXPANEL_ORIGINS = {
  us: 'https://api.mixpanel.com',
  eu: 'https://api-eu.mixpanel.com',
  in: 'https://api-in.mixpanel.com'
} as const
/** Batches fill to Mixpanel's own cap of 2000 events a request (fewer if they pass 2 MB). */
export const DEFAULT_MIXPANEL_BATCH_SIZE = MIXPANEL_MAX_EVENTS_PER_REQUEST
/** A partial batch leaves after a second: near real time at low traffic, few requests at high. */
export const DEFAULT_MIXPANEL_FLUSH_INTERVAL_MS = 1000
/** Four requests of up to 2000 events in flight: far above what one process emits. */
export const DEFAULT_MIXPANEL_CONCURRENCY = 4

const OWN_OPTION_KEYS = new Set<string>(['projectToken', 'serviceAccount', 'apiSecret', 'region', 'endpoint', 'name', 'ip', ...BATCHING_OPTION_KEYS])

const invalidOption = optionErrors('mixpanelCollector')

interface NormalizedMixpanelOptions extends EngineWiring {
  token: string
  /** `/import?strict=1`, with the project id for a service account. */
  path: string
  /** The Authorization header's value. */
  authorization: string
  ip: IpPolicy
}

function nonEmpty (value: unknown, what: string): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalidOption(`${what} must be a non-empty string`)
  return value.trim()
}

function authorization (options: MixpanelCollectorOptions, token: string): { header: string, query: string } {
  const { serviceAccount, apiSecret } = options
  if (serviceAccount !== undefined && apiSecret !== undefined) throw invalidOption('give serviceAccount or apiSecret, not both')
  const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
  if (serviceAccount !== undefined) {
    if (serviceAccount === null || typeof serviceAccount !== 'object') throw invalidOption('serviceAccount must be an object with username, secret and projectId')
    const username = nonEmpty(serviceAccount.username, 'serviceAccount.username')
    const secret = nonEmpty(serviceAccount.secret, 'serviceAccount.secret')
    const projectId = typeof serviceAccount.projectId === 'number' ? String(serviceAccount.projectId) : serviceAccount.projectId
    if (typeof projectId !== 'string' || !/^[0-9]+$/.test(projectId.trim())) throw invalidOption('serviceAccount.projectId must be the project\'s numeric id')
    return { header: basic(username, secret), query: `&project_id=${projectId.trim()}` }
  }
  if (apiSecret !== undefined) return { header: basic(nonEmpty(apiSecret, 'apiSecret'), ''), query: '' }
  // Mixpanel takes the project token as the Basic username (empty password) when nothing else is given.
  return { header: basic(token, ''), query: '' }
}

/** Checks and normalises the options once, at construction. */
export function normalizeMixpanelOptions (options: MixpanelCollectorOptions): NormalizedMixpanelOptions {
  const name = checkCollectorOptions(options, OWN_OPTION_KEYS, DEFAULT_MIXPANEL_NAME, invalidOption, 'a projectToken')
  if (typeof options.projectToken !== 'string' || options.projectToken.trim() === '') {
    throw invalidOption('projectToken is required: the project token from Project Settings > Access Keys')
  }
  const token = options.projectToken.trim()
  const auth = authorization(options, token)
  const region = options.region ?? 'us'
  if (!Object.hasOwn(MIXPANEL_ORIGINS, region)) throw invalidOption('region must be "us", "eu" or "in"')
  const parsed = parseHttpUrl(options.endpoint ?? MIXPANEL_ORIGINS[region], 'endpoint', 'base', invalidOption)
  const prefix = parsed.pathname.replace(/\/+$/, '')
  if (/\/(import|track)$/.test(prefix)) {
    throw invalidOption('endpoint ends with /import or /track: give the origin (and a proxy\'s path prefix, if any); the collector appends /import')
  }
  return {
    name,
    token,
    origin: parsed.origin,
    path: `${prefix}/import?strict=1${auth.query}`,
    authorization: auth.header,
    ip: ipPolicyOption(options.ip, 'full', invalidOption),
    batching: pickBatchingOptions(options),
    // No crawler's event by default: Mixpanel's figures are about people (docs/crawlers.md).
    events: eventsFilter(options.events, NO_BOT_EVENTS, invalidOption),
    defaults: {
      maxBatchSize: DEFAULT_MIXPANEL_BATCH_SIZE,
      flushIntervalMs: DEFAULT_MIXPANEL_FLUSH_INTERVAL_MS,
      concurrency: DEFAULT_MIXPANEL_CONCURRENCY
    }
  }
}
