import { readFileSync } from 'node:fs'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import { Webhook } from 'standardwebhooks'
import type { ReceivedRequest } from '../helpers/sink.js'
import { ipViolations, urlViolations, type PrivacyExpectations } from './privacy-rules.js'

// The webhook collector's contract, as a validator for the test sink: the JSON Schema we ship
// (checked with ajv) and Standard Webhooks signatures (checked with the `standardwebhooks`
// package, a verifier we did not write).

export const WEBHOOK_SCHEMA_URL = new URL('../../schema/webhook-body.schema.json', import.meta.url)

let compiled: ValidateFunction | undefined

/** The shipped schema, compiled once. `format` is an annotation here: the schema's patterns do the checking. */
export function webhookBodyValidator (): ValidateFunction {
  compiled ??= new Ajv2020({ strict: true, allErrors: true, validateFormats: false })
    .compile(JSON.parse(readFileSync(WEBHOOK_SCHEMA_URL, 'utf8')))
  return compiled
}

export interface WebhookRulesOptions {
  /** Request path and query. Default `/`. */
  path?: string
  /** The collector's secret: every request must carry a signature that verifies with it. */
  secret?: string
  /** Also check every event's `url`, `path`, `referrer`, `clientIP` (and for anonymous visitors `userId`, `consent`). */
  privacy?: PrivacyExpectations
}

const CONTROL = /[\x00-\x1f\x7f]/

export function webhookRules (options: WebhookRulesOptions = {}): (request: ReceivedRequest) => string[] {
  const path = options.path ?? '/'
  const validate = webhookBodyValidator()
  const verifier = options.secret === undefined ? undefined : new Webhook(options.secret)
  return function validateWebhook (request: ReceivedRequest): string[] {
    const violations: string[] = []
    if (request.method !== 'POST') violations.push(`method ${request.method}, expected POST`)
    if (request.url !== path) violations.push(`path ${request.url}, expected ${path}`)
    for (let i = 0; i < request.rawHeaders.length; i += 2) {
      if (CONTROL.test(request.rawHeaders[i + 1])) violations.push(`header ${request.rawHeaders[i]} has a control character`)
    }
    const contentType = (request.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase()
    if (contentType !== 'application/json') violations.push(`Content-Type ${JSON.stringify(request.headers['content-type'])}, expected application/json`)

    const text = request.body.toString('utf8')
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      violations.push('body is not JSON')
      return violations
    }
    if (!validate(body)) {
      for (const error of validate.errors ?? []) violations.push(`schema: ${error.instancePath || '/'} ${error.message ?? ''}`)
    }
    const privacy = options.privacy
    if (privacy !== undefined) {
      const events = (body as { events?: unknown }).events
      for (const event of (Array.isArray(events) ? events : []) as Array<Record<string, unknown>>) {
        for (const key of ['url', 'path', 'referrer']) {
          if (typeof event[key] === 'string') violations.push(...urlViolations(key, event[key], privacy))
        }
        violations.push(...ipViolations('clientIP', event.clientIP as string | undefined, privacy))
        if (privacy.anonymous === true && (event.userId !== '' || event.consent !== 'anonymous')) {
          violations.push(`anonymous event with userId ${JSON.stringify(event.userId)} and consent ${JSON.stringify(event.consent)}`)
        }
      }
    }
    const id = (body as { id?: unknown }).id
    if (request.headers['webhook-id'] !== id) violations.push(`webhook-id ${JSON.stringify(request.headers['webhook-id'])} differs from body id ${JSON.stringify(id)}`)

    if (verifier !== undefined) {
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === 'string') headers[name] = value
      }
      try {
        verifier.verify(text, headers)
      } catch (error) {
        violations.push(`signature: ${(error as Error).message}`)
      }
    }
    return violations
  }
}
