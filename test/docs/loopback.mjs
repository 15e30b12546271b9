// Preloaded (`node --import`) into every docs sample the test runs: samples must run as pasted, and
// may name real destinations (www.google-analytics.com, plausible.io, hooks.example.com), yet the
// test may reach nothing but loopback. The collectors open their own undici Pool per destination
// (lib/http/transport.ts), not the global dispatcher, so swapping undici's global dispatcher would
// miss them. Every TCP client connection in Node — undici's net.connect and tls.connect, http.Agent,
// pg, node-redis — goes through net.Socket.prototype.connect, so that is where the redirect sits:
// a destination host with a stand-in goes to that stand-in's 127.0.0.1 port (TLS still verified:
// the stand-in's certificate is for the real host name and its CA comes in NODE_EXTRA_CA_CERTS),
// loopback goes through untouched, and anything else is refused and reported: the child writes
// the marker below to stderr and exits non-zero, which fails the sample.
import net from 'node:net'

export const BLOCKED_MARKER = 'docs-sample: blocked a connection to'

/** host name → 127.0.0.1 port of its stand-in, from the test. */
const routes = JSON.parse(process.env.DOCS_SAMPLE_ROUTES ?? '{}')
const LOOPBACK = new Set(['localhost', '::1', '[::1]', '0.0.0.0', '::'])
const blocked = []

function isLoopback (host) {
  return host === undefined || LOOPBACK.has(host) || /^127\./.test(host) || /^::ffff:127\./.test(host)
}

const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function connectLoopbackOnly (...args) {
  // net.connect hands over its already-normalised [options, callback] array; direct callers pass
  // (options[, cb]), (port[, host][, cb]) or (path[, cb]).
  let options
  let callback
  if (Array.isArray(args[0])) [options, callback] = args[0]
  else if (typeof args[0] === 'object' && args[0] !== null) [options, callback] = args
  else if (typeof args[0] === 'string' && !/^\d+$/.test(args[0])) return connect.apply(this, args) // a Unix socket path
  else {
    const host = typeof args[1] === 'string' ? args[1] : undefined
    callback = args.find((arg) => typeof arg === 'function')
    options = { port: Number(args[0]), host }
  }
  if (options.path !== undefined) return connect.apply(this, args)
  const host = options.host
  if (isLoopback(host)) return connect.apply(this, args)
  const port = routes[host]
  if (port !== undefined) {
    const redirected = { ...options, host: '127.0.0.1', port }
    return callback === undefined ? connect.call(this, redirected) : connect.call(this, redirected, callback)
  }
  blocked.push(`${host}:${options.port}`)
  process.stderr.write(`${BLOCKED_MARKER} ${host}:${options.port} (not loopback, no stand-in)\n`)
  const socket = this
  process.nextTick(() => socket.destroy(new Error(`docs sample: no network but loopback (${host})`)))
  return socket
}

process.on('exit', () => {
  if (blocked.length > 0) process.exitCode = 1
})
