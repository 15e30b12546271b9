import { gunzipSync } from 'node:zlib'
import type { ReceivedRequest } from '../helpers/sink.js'

/** The request body as the destination reads it: gunzipped when `Content-Encoding: gzip` says so. */
export function decodedBody (request: ReceivedRequest): Buffer | string {
  const encoding = request.headers['content-encoding']
  if (encoding === undefined) return request.body
  if (encoding !== 'gzip') return `Content-Encoding ${JSON.stringify(encoding)} is not gzip`
  try {
    return gunzipSync(request.body)
  } catch {
    return 'the body is not valid gzip'
  }
}
