import { test } from 'tap'
import { defaultInterpret } from '../../lib/batch/verdict.js'
import type { HttpResponse } from '../../lib/http/types.js'

const response = (statusCode: number, body = '', headers: HttpResponse['headers'] = {}): HttpResponse => ({ statusCode, headers, body })

test('defaultInterpret: 2xx delivered', async (t) => {
  for (const status of [200, 201, 202, 204, 299]) t.same(defaultInterpret(response(status)), { outcome: 'delivered' }, String(status))
})

test('defaultInterpret: 408, 429, 500, 502, 503, 504 retried, with Retry-After when given', async (t) => {
  for (const status of [408, 429, 500, 502, 503, 504]) {
    t.same(defaultInterpret(response(status)), { outcome: 'retry', detail: `HTTP ${status}` }, String(status))
  }
  t.same(defaultInterpret(response(429, '', { 'retry-after': '3' })), { outcome: 'retry', retryAfterMs: 3000, detail: 'HTTP 429' })
  const date = new Date(Date.now() + 60_000).toUTCString()
  const verdict = defaultInterpret(response(503, '', { 'retry-after': date }))
  t.equal(verdict.outcome, 'retry')
  if (verdict.outcome === 'retry') t.ok(verdict.retryAfterMs !== undefined && verdict.retryAfterMs > 55_000 && verdict.retryAfterMs <= 60_000)
})

test('defaultInterpret: other statuses rejected with the status and the start of the body', async (t) => {
  t.same(defaultInterpret(response(400, '  {"error":"bad"}\n')), { outcome: 'rejected', detail: 'HTTP 400: {"error":"bad"}' })
  t.same(defaultInterpret(response(401)), { outcome: 'rejected', detail: 'HTTP 401' })
  t.same(defaultInterpret(response(501)), { outcome: 'rejected', detail: 'HTTP 501' }, '501 Not Implemented will not start working')
  t.same(defaultInterpret(response(302)), { outcome: 'rejected', detail: 'HTTP 302' }, 'redirects are not followed')
  const long = defaultInterpret(response(422, 'y'.repeat(1000)))
  t.equal(long.outcome === 'rejected' && long.detail, `HTTP 422: ${'y'.repeat(200)}`)
})
