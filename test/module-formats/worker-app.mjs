// An app on the built package with delivery: 'worker' (argv[2]: 'esm' or 'cjs'): the worker thread
// loads the collectors' modules by path from the build, which the ESM bundle must keep resolvable.
import { createRequire } from 'node:module'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { tmpdir } from 'node:os'
import Fastify from 'fastify'

const format = process.argv[2]
const require = createRequire(import.meta.url)
const { default: analytics } = format === 'cjs' ? { default: require('fastify-analytics') } : await import('fastify-analytics')
const { stdoutCollector } = format === 'cjs' ? require('fastify-analytics/stdout') : await import('fastify-analytics/stdout')
const file = join(tmpdir(), `analytics-worker-${format}-${process.pid}.ndjson`)
const app = Fastify()
await app.register(analytics, { delivery: 'worker', collectors: [stdoutCollector({ destination: file })] })
app.get('/', (request, reply) => reply.type('text/html').send('<p>hi</p>'))
for (let i = 0; i < 3; i++) {
  await app.inject({ url: '/', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36' } })
}
await app.close()
const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line).event.type)
rmSync(file)
process.stdout.write(JSON.stringify({ lines, stdout: app.analytics.stats().collectors.stdout }))
