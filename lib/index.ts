import { analytics } from './plugin.js'

export { analytics, analytics as fastifyAnalytics }
export default analytics

export type { AnalyticsInstanceApi } from './plugin.js'
export type { AnalyticsOptions, AutomaticEventType, BotsMode, GeoOptions, PageViewsMode, RouteAnalyticsConfig, VisitsOptions } from './options.js'
export type { Salts, VisitHit, VisitStats, VisitStore } from './visits/index.js'
export { DEFAULT_START_TIMEOUT_MS, DEFAULT_SHUTDOWN_TIMEOUT_MS, DEFAULT_DELIVERY } from './options.js'
export type { DeliveryMode } from './options.js'
export type { AnalyticsStats, EventCounters, SkippedCounters } from './tracker.js'
export type { ClientInfo, DeviceCategory } from './client.js'
export type { PrivacyOptions, ConsentDecision, EventConsent, QueryPolicy, IpPolicy } from './privacy/index.js'
export { DEFAULT_ALLOWED_QUERY, applyIpPolicy } from './privacy/index.js'
export type { RequestAnalyticsApi } from './request-analytics.js'
export { EventType, MAX_PROPERTIES, MAX_FIELD_LENGTH, eventToJSON } from './event.js'
export {
  MAX_NAME_LENGTH, MAX_USER_ID_LENGTH, MAX_HOSTNAME_LENGTH, MAX_LOCALE_LENGTH, MAX_METHOD_LENGTH, MAX_CLIENT_IP_LENGTH,
  MAX_PROPERTY_KEY_LENGTH, MAX_PROPERTY_VALUE_LENGTH, MIN_TIMESTAMP, MAX_TIMESTAMP
} from './event.js'
export type { AnalyticsEvent, AnalyticsEventInput, ActionEventInput, CustomEventInput, EventInputFields, PageViewEventInput, AnalyticsEventJSON, EventProperties, PropertyValue, Visit, VisitJSON } from './event.js'
export type { Attribution, Channel, ClickNetwork } from './attribution/types.js'
export { Money, MAX_MONEY_DIGITS } from './money.js'
export type { MoneyJSON } from './money.js'
export type { AnalyticsCollector, CollectorContext, CollectorStats, DeliveryReport, DropCounts, DropReason } from './collector.js'
export { totalDropped, DROP_REASONS } from './collector.js'
export type { Logger } from './log.js'
export { trackAnalyticsEvent, setAnalyticsRevenue, addAnalyticsProperty, setAnalyticsEventName } from './helpers.js'
export {
  FST_ANALYTICS_INVALID_OPTION,
  FST_ANALYTICS_INVALID_MONEY,
  FST_ANALYTICS_DUPLICATE_COLLECTOR,
  FST_ANALYTICS_START_FAILED,
  FST_ANALYTICS_ALREADY_REGISTERED,
  FST_ANALYTICS_DASHBOARD_ACCESS
} from './errors.js'
export type { CrawlerInfo, CrawlerPurpose } from './crawlers/types.js'
export { CRAWLER_PURPOSES } from './crawlers/types.js'
export type { CrawlerStats } from './crawlers/tally.js'
export { eventsFilter, EVERY_EVENT, NO_BOT_EVENTS } from './collectors/options.js'
export type { CollectorEvents, CollectorEventsDefault, CollectorEventsOption } from './collectors/options.js'
