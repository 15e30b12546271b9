import { FST_ANALYTICS_INVALID_OPTION } from '../../errors.js'

/** The error for an option that cannot work; the message names the option, never a secret or header value. */
export function invalidOption (message: string): Error {
  return new FST_ANALYTICS_INVALID_OPTION(`webhookCollector: ${message}`)
}
