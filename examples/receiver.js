// A local stand-in for a destination: prints every request it receives. Loopback only.
// With EXAMPLE_RECEIVED set to a file path, each request is also appended there as one JSON line
// ({ label, method, path, status, body }): test/examples.test.ts reads it to check that the events an
// example says it sends arrive.
import { appendFileSync } from 'node:fs'
import { createServer } from 'node:http'

export async function startReceiver (label, respond = (req, res) => res.writeHead(200).end()) {
  const server = createServer((req, res) => {
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      const path = req.url.replace(/api_secret=[^&]*/, 'api_secret=[REDACTED]')
      console.log(`${label} ← ${req.method} ${path}`)
      console.log(body.length > 1200 ? body.slice(0, 1200) + '…' : body)
      respond(req, res, body)
      if (process.env.EXAMPLE_RECEIVED) {
        appendFileSync(process.env.EXAMPLE_RECEIVED, JSON.stringify({ label, method: req.method, path, status: res.statusCode, body }) + '\n')
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { origin: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => server.close(resolve)) }
}

/** Sends a few browser-like requests to the app. */
export async function browse (origin, requests) {
  for (const [method, path] of requests) {
    const response = await fetch(origin + path, {
      method,
      headers: {
        'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) example',
        'accept-language': 'en-GB',
        cookie: '_ga=GA1.1.1234567890.1790000000'
      }
    })
    await response.arrayBuffer()
  }
}
