export { Transport, MAX_RESPONSE_BODY_BYTES, MAX_DRAIN_BYTES, DEFAULT_KEEP_ALIVE_TIMEOUT_MS, type TransportOptions } from './transport.js'
export { TransportError, classifyError, defaultInterpret, RETRY_STATUSES, DETAIL_BODY_CHARS, type TransportErrorKind, type FailureContext } from './classify.js'
export { parseRetryAfter } from './retry-after.js'
export { redactPath, redactText, secretValues, isSecretName, REDACTED } from './redact.js'
