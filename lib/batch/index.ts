export * from './types.js'
export { DeliveryEngine } from './engine.js'
export {
  DEFAULT_MAX_QUEUE_SIZE,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_MAX_BATCH_BYTES,
  defaultItemBytes,
  DEFAULT_TIMEOUT_MS,
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  DEFAULT_RETRY_MAX_ATTEMPTS,
  type DeliveryEngineOptions
} from './settings.js'
export { defaultInterpret } from './verdict.js'
// What a custom collector's adapter needs from the HTTP layer.
export { parseRetryAfter, redactPath } from '../http/index.js'
