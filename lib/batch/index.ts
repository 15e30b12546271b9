export * from './types.js'
export {
  DeliveryEngine,
  DEFAULT_MAX_QUEUE_SIZE,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  DEFAULT_RETRY_MAX_ATTEMPTS,
  type DeliveryEngineOptions
} from './engine.js'
// What a custom collector's adapter needs from the HTTP layer.
export { defaultInterpret, parseRetryAfter, redactPath } from '../http/index.js'
