import { test } from 'tap'
import { isSecretName, redactPath, redactText, REDACTED, secretValues } from '../../lib/http/redact.js'

test('redactPath replaces the values of credential-like query parameters', async (t) => {
  const cases: Array<[string, string]> = [
    ['/mp/collect?measurement_id=G-1&api_secret=S3CRET', `/mp/collect?measurement_id=G-1&api_secret=${REDACTED}`],
    ['/x?secret=a&key=b&token=c', `/x?secret=${REDACTED}&key=${REDACTED}&token=${REDACTED}`],
    ['/x?signature=a&password=b&auth=c', `/x?signature=${REDACTED}&password=${REDACTED}&auth=${REDACTED}`],
    ['/x?API_SECRET=a&Api-Key=b&apiKey=c&access_token=d', `/x?API_SECRET=${REDACTED}&Api-Key=${REDACTED}&apiKey=${REDACTED}&access_token=${REDACTED}`],
    ['/x?sig=abc&client_secret=d;session_id=e', `/x?sig=${REDACTED}&client_secret=${REDACTED};session_id=${REDACTED}`],
    ['/x?api%5Fsecret=S3CRET', `/x?api%5Fsecret=${REDACTED}`],
    ['/x?token=a%20b#frag', `/x?token=${REDACTED}#frag`],
    ['/x?token=', `/x?token=${REDACTED}`]
  ]
  for (const [input, expected] of cases) t.equal(redactPath(input), expected, input)
})

test('redactPath keeps harmless parameters, paths without a query and bare names', async (t) => {
  for (const path of ['/api/event', '/mp/collect?measurement_id=G-1&v=2', '/x?flag', '/x?a=1&b=two', '/']) {
    t.equal(redactPath(path), path, path)
  }
})

test('redactPath removes user:pass@ from URLs', async (t) => {
  t.equal(redactPath('https://user:pa55@example.com/hook?x=1'), `https://${REDACTED}@example.com/hook?x=1`)
  t.equal(redactPath('proxy at http://bob@proxy.local:8080 failed'), `proxy at http://${REDACTED}@proxy.local:8080 failed`)
})

test('isSecretName normalises case and separators', async (t) => {
  for (const name of ['api_secret', 'apiSecret', 'API-SECRET', 'key', 'x-api-key', 'authorization', 'webhook-signature', 'passwd', 'pwd']) {
    t.ok(isSecretName(name), name)
  }
  for (const name of ['measurement_id', 'domain', 'v', 'name', 'url', 'bad%name']) t.notOk(isSecretName(name), name)
})

test('secretValues finds query, userinfo and header credentials; redactText scrubs them from free text', async (t) => {
  const secrets = secretValues('/x?api_secret=S3CRET%2Bvalue&measurement_id=G-1', {
    authorization: 'Bearer T0KEN-123',
    'webhook-signature': 'v1,SIGNATUREBASE64',
    'content-type': 'application/json'
  })
  t.ok(secrets.includes('S3CRET%2Bvalue'), 'raw query value')
  t.ok(secrets.includes('S3CRET+value'), 'decoded query value')
  t.ok(secrets.includes('T0KEN-123'), 'bearer token')
  t.ok(secrets.includes('SIGNATUREBASE64'), 'signature part')
  t.notOk(secrets.includes('G-1'), 'measurement id is not a secret')
  t.notOk(secrets.includes('application/json'), 'ordinary header left alone')
  t.same(secretValues('/x?key=ab'), [], 'values under 4 characters are not scrubbed from text')
  t.ok(secretValues('https://alice:hunter22@h/p').includes('hunter22'), 'URL password')

  const text = redactText('error {"api_secret":"S3CRET+value"} auth Bearer T0KEN-123\r\ninjected', secrets)
  t.notMatch(text, /S3CRET|T0KEN/)
  t.notMatch(text, /[\r\n]/, 'control characters removed')
  t.equal(redactText('x'.repeat(600)).length, 501, 'cut at 500 characters plus an ellipsis')
  t.equal(redactText('see /x?token=abc'), `see /x?token=${REDACTED}`)
})
