// What the request context behind the module helpers (`requestContext: true`, an AsyncLocalStorage)
// costs per request, against the plugin without it and bare Fastify, on a JSON route that yields no
// event (the common request) whose handler awaits three promises (an app's database and service
// calls). Counted in instructions under valgrind, which a shared, busy machine does not distort:
//
//   for c in bare hooks off on; do for n in 2000 4000; do
//     N=$n valgrind --tool=callgrind --callgrind-out-file=/dev/null node bench/request-context.js $c 2>&1 | grep 'refs'
//   done; done
//
// Instructions per request = (refs at 4000 − refs at 2000) ÷ 2000, for each configuration. Run it
// with Node 20 and Node 24 (AsyncContextFrame makes AsyncLocalStorage far cheaper there).
// Without valgrind it prints CPU µs per request (noisy on a shared machine). Bounded: N injects.
import Fastify from 'fastify'

const config = process.argv[2] ?? 'on'
const N = Number(process.env.N ?? 2000)
const discard = { name: 'discard', start () {}, collect () {}, flush () {}, close () {} }

const app = Fastify({ logger: false })
if (config === 'hooks') {
  // What Fastify charges for any plugin's two request hooks and a response listener, doing nothing.
  const onClose = () => {}
  app.addHook('onRequest', (request, reply, done) => { reply.raw.on('close', onClose); done() })
  app.addHook('onResponse', (request, reply, done) => done())
} else if (config !== 'bare') {
  const { default: analytics } = await import(new URL('../dist/lib/index.js', import.meta.url).href)
  await app.register(analytics, { collectors: [discard], requestContext: config === 'on' })
}
const work = async () => 1
app.get('/api/products/:id', async (request) => {
  await work()
  await work()
  await work()
  return { id: request.params.id, name: 'Bench product' }
})
await app.ready()
const headers = { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36', accept: 'application/json' }
const start = process.cpuUsage()
for (let i = 0; i < N; i++) await app.inject({ method: 'GET', url: `/api/products/${i % 50}`, headers })
const used = process.cpuUsage(start)
console.log(`${config}: ${((used.user + used.system) / N).toFixed(2)} µs per request (${N} requests, ${process.version})`)
await app.close()
