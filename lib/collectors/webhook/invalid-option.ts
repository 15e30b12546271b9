import { optionErrors } from '../options.js'

/** The error for an option that cannot work; the message names the option, never a secret or header value. */
export const invalidOption = optionErrors('webhookCollector')
