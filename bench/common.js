// Shared by the benchmark processes: the simulated visitors, the events fed to app.analytics.track,
// small statistics helpers, and the machine-load readings.
import { readFileSync } from 'node:fs'

/**
 * Distinct visitors (user agents) the load cycles through. GA4 sends one client_id per request, so
 * the visitor mix decides how many events share a Measurement Protocol request: with 50 visitors a
 * 500-event batch becomes ~50 requests of ~10 events. One visitor would flatter GA4 (25 per request).
 */
export const VISITORS = 50

export function userAgent (visitor) {
  return `Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.${visitor}.0 Safari/537.36`
}

export const BROWSER_HEADERS = {
  accept: 'text/html,application/xhtml+xml',
  'accept-language': 'en-GB,en;q=0.9',
  referer: 'https://www.example.com/search?q=bench'
}

/** autocannon `requests`: one GET per visitor, cycled by every connection. */
export function loadRequests () {
  const requests = []
  for (let v = 0; v < VISITORS; v++) {
    requests.push({ method: 'GET', path: `/products/${1000 + v}`, headers: { ...BROWSER_HEADERS, 'user-agent': userAgent(v) } })
  }
  return requests
}

/** A page view like the ones the HTTP load produces, for app.analytics.track (no request to enrich from). */
export function trackedEvent (i) {
  const visitor = i % VISITORS
  return {
    type: 'pageview',
    url: `https://shop.example/products/${1000 + visitor}`,
    path: `/products/${1000 + visitor}`,
    method: 'GET',
    hostname: 'shop.example',
    matchedPattern: '/products/:id',
    userAgent: userAgent(visitor),
    clientIP: `203.0.113.${visitor + 1}`,
    referrer: BROWSER_HEADERS.referer,
    locale: 'en-GB',
    statusCode: 200,
    durationMs: 1.25
  }
}

export function median (values) {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

export function range (values) {
  const finite = values.filter((v) => Number.isFinite(v))
  return { min: Math.min(...finite), max: Math.max(...finite) }
}

/** The q-th quantile (0..1) of a Float64Array or array of numbers; sorts a copy. */
export function quantile (values, q) {
  if (values.length === 0) return NaN
  const sorted = Float64Array.from(values).sort()
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const tick = () => new Promise((resolve) => setImmediate(resolve))

/** Hands a result to run.js over IPC, or prints it when the script runs on its own; then exits. */
export function report (result) {
  if (typeof process.send === 'function') process.send(result, () => process.exit(0))
  else {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n')
    process.exit(0)
  }
}

// ---- machine load (Linux /proc): other work on the machine shows in the figures, so it is measured ----

/**
 * Clock ticks (USER_HZ, 100/s) per CPU since boot; null where /proc is missing. `busy` is user +
 * nice + system only: interrupt and softirq time (loopback packet processing, charged to whichever
 * core sends) belongs to no process, ours or others'.
 */
export function cpuTicks () {
  try {
    return readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d/.test(l)).map((line) => {
      const f = line.trim().split(/\s+/).slice(1, 9).map(Number)
      const total = f.reduce((a, b) => a + b, 0)
      return { busy: f[0] + f[1] + f[2], total }
    })
  } catch {
    return null
  }
}

/** utime + stime of a process in ticks, or 0 when it cannot be read. */
export function processTicks (pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(fields[11]) + Number(fields[12])
  } catch {
    return 0
  }
}
