import { gzip } from 'node:zlib'
import type { OutgoingRequest } from '../batch/types.js'

/**
 * Compresses a request body off the event loop (zlib runs in libuv's thread pool), so a 2 MB batch
 * costs the app's thread nothing but the hand-over. Level 6, zlib's default: on event JSON it
 * takes 10–20× off the bytes sent, and faster levels gain little CPU on bodies this size.
 */
export async function gzipBody (body: Uint8Array): Promise<Buffer> {
  return await new Promise((resolve, reject) => {
    gzip(body, (error, result) => { error === null ? resolve(result) : reject(error) })
  })
}

/**
 * Items joined as a JSON array (`[a,b,c]`) into one buffer of its exact size, each item a JSON text
 * whose UTF-8 length is in `bytes`. One copy per item; a join and an encode would make three.
 */
export function jsonArrayBody (items: readonly string[], bytes: readonly number[], start: number, end: number, head = '[', tail = ']'): Buffer {
  let total = Buffer.byteLength(head) + Buffer.byteLength(tail) + Math.max(0, end - start - 1)
  for (let i = start; i < end; i++) total += bytes[i]
  const body = Buffer.allocUnsafe(total)
  let at = body.write(head, 0, 'utf8')
  for (let i = start; i < end; i++) {
    if (i > start) body[at++] = 0x2c // ,
    at += body.write(items[i], at, bytes[i], 'utf8')
  }
  body.write(tail, at, 'utf8')
  return body
}

/**
 * Cuts items into runs that fit a request: at most `maxEvents` items and `maxBytes` of body
 * (`overhead` bytes around them, a comma between). `bytes` receives each item's UTF-8 length.
 * An item larger than the body on its own still gets a run of its own (the collector refused those
 * at collect, so this does not happen).
 */
export function splitRuns (items: readonly string[], bytes: number[], maxEvents: number, maxBytes: number, overhead: number): Array<[number, number]> {
  const runs: Array<[number, number]> = []
  let start = 0
  let size = overhead
  for (let i = 0; i < items.length; i++) {
    const length = Buffer.byteLength(items[i])
    bytes[i] = length
    if (i > start && (i - start >= maxEvents || size + length + 1 > maxBytes)) {
      runs.push([start, i])
      start = i
      size = overhead
    }
    size += length + 1
  }
  if (start < items.length) runs.push([start, items.length])
  return runs
}

/** Gzips every request's body (they were built as buffers) and marks it so. */
export async function gzipRequests (requests: OutgoingRequest[]): Promise<OutgoingRequest[]> {
  await Promise.all(requests.map(async (request) => {
    request.body = await gzipBody(request.body as Uint8Array)
    request.headers['content-encoding'] = 'gzip'
  }))
  return requests
}
