import { test } from 'tap'
import { classifyError, TransportError } from '../../lib/http/classify.js'

test('classifyError: timeouts, network errors, aborts and invalid requests', async (t) => {
  const coded = (code: string, extra: object = {}): Error => Object.assign(new Error(`boom ${code}`), { code }, extra)
  const none = { deadline: false, aborted: false }
  t.match(classifyError(coded('UND_ERR_HEADERS_TIMEOUT'), none), { kind: 'timeout', code: 'UND_ERR_HEADERS_TIMEOUT' })
  t.match(classifyError(coded('UND_ERR_CONNECT_TIMEOUT'), none), { kind: 'timeout' })
  t.match(classifyError(coded('ECONNREFUSED'), none), { kind: 'network', code: 'ECONNREFUSED' })
  t.match(classifyError(coded('UND_ERR_SOCKET', { cause: coded('ECONNRESET') }), none), { kind: 'network', code: 'ECONNRESET' }, 'the system code under a socket error')
  t.match(classifyError(coded('UND_ERR_SOCKET'), none), { kind: 'network', code: 'UND_ERR_SOCKET' })
  t.match(classifyError(new AggregateError([coded('ECONNREFUSED')], 'all failed'), none), { kind: 'network', code: 'ECONNREFUSED' }, 'happy eyeballs')
  t.match(classifyError(coded('UND_ERR_INVALID_ARG'), none), { kind: 'invalid' })
  t.match(classifyError(new Error('what'), none), { kind: 'network', code: 'UNKNOWN' })
  t.match(classifyError('a string', none), { kind: 'network', message: 'a string' })
  t.match(classifyError(coded('UND_ERR_ABORTED'), { deadline: true, aborted: false }), { kind: 'timeout', code: 'ATTEMPT_TIMEOUT' })
  t.match(classifyError(coded('UND_ERR_ABORTED'), { deadline: true, aborted: true }), { kind: 'aborted' }, 'the caller aborting wins')
  const own = new TransportError('network', 'X', 'y')
  t.equal(classifyError(own, none), own, 'already classified')
  const secret = classifyError(new Error('bad path /x?api_secret=S3CRET and S3CRET'), { ...none, secrets: ['S3CRET'] })
  t.notMatch(secret.message, /S3CRET/)
})
