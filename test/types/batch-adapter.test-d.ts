import { expectAssignable, expectNotAssignable } from 'tsd'
import type { DeliveryAdapter, OutgoingRequest } from 'fastify-analytics/batch'

const prepare = (lines: string[]): { requests: OutgoingRequest[], invalid: number } => ({
  requests: [{ path: '/', headers: {}, body: lines.join('\n'), events: lines.length }],
  invalid: 0
})

// beforeAttempt is optional, gets the request and the 1-based attempt, and may only refresh headers.
expectAssignable<DeliveryAdapter<string>>({ prepare })
expectAssignable<DeliveryAdapter<string>>({
  prepare,
  beforeAttempt (request: OutgoingRequest, attempt: number) { request.headers['x-attempt'] = String(attempt) }
})
expectNotAssignable<DeliveryAdapter<string>>({ prepare, beforeAttempt: (_request: OutgoingRequest, attempt: string) => attempt })
