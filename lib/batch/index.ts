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
