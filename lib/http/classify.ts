import { errorText } from '../util.js'
import { redactText } from './redact.js'

/**
 * How an attempt failed without a response:
 * - `timeout`: connect, headers or body timeout, or the whole-attempt deadline (retried);
 * - `network`: refused, reset, closed, DNS… (retried);
 * - `aborted`: the caller's signal fired (the engine is shutting down; not retried);
 * - `invalid`: undici refused the request itself (a bad header, say): retrying cannot help.
 */
export type TransportErrorKind = 'timeout' | 'network' | 'aborted' | 'invalid'

/** A failed attempt, classified. Its message never holds the request's path, headers or body. */
export class TransportError extends Error {
  readonly kind: TransportErrorKind
  /** The underlying code: `ECONNREFUSED`, `ECONNRESET`, `UND_ERR_HEADERS_TIMEOUT`, `UND_ERR_SOCKET`… */
  readonly code: string

  constructor (kind: TransportErrorKind, code: string, message: string) {
    super(message)
    this.name = 'TransportError'
    this.kind = kind
    this.code = code
  }
}

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT', 'ESOCKETTIMEDOUT'
])
const INVALID_CODES = new Set([
  'UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'ERR_INVALID_ARG_TYPE', 'ERR_INVALID_ARG_VALUE',
  'ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_URL'
])

/** Where an attempt stood when it failed: the transport knows which of its own signals fired. */
export interface FailureContext {
  /** The whole-attempt deadline fired. */
  deadline: boolean
  /** The caller's signal fired. */
  aborted: boolean
  /** Secret values to scrub from the message (see `secretValues`). */
  secrets?: readonly string[]
}

/** Turns whatever undici or the socket threw into a `TransportError` with a redacted message. */
export function classifyError (error: unknown, context: FailureContext): TransportError {
  if (error instanceof TransportError) return error
  const code = errorCode(error)
  const message = redactText(errorText(error), context.secrets, 200)
  if (context.aborted) return new TransportError('aborted', code ?? 'ABORT_ERR', `request aborted: ${message}`)
  if (context.deadline) return new TransportError('timeout', 'ATTEMPT_TIMEOUT', 'attempt deadline reached')
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new TransportError('timeout', code, message)
  if (code !== undefined && INVALID_CODES.has(code)) return new TransportError('invalid', code, message)
  return new TransportError('network', code ?? 'UNKNOWN', message)
}

function errorCode (error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { code, cause, errors } = error as { code?: unknown, cause?: unknown, errors?: unknown }
  // undici wraps a socket failure (UND_ERR_SOCKET); the system code underneath says more.
  if (code === 'UND_ERR_SOCKET') return errorCode(cause) ?? code
  if (typeof code === 'string') return code
  // Happy-eyeballs connects fail with an AggregateError of one error per address.
  if (Array.isArray(errors) && errors.length > 0) return errorCode(errors[0])
  return errorCode(cause)
}
