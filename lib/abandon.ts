import type { ServerResponse } from 'node:http'
import { constants as h2, type Http2ServerResponse } from 'node:http2'

/** nginx's code for a client that closed the request before the response. */
export const CLIENT_CLOSED_REQUEST = 499
/** A stream the server reset itself with an error code: the response failed on our side. */
const SERVER_RESET = 500

/**
 * The status an automatic event carries because its response did not complete, or 0 when it did.
 * Called from onResponse and from the response's 'close' event.
 *
 * HTTP/1.1: 'close' before the response was flushed (`writableFinished`) means the client left.
 *
 * HTTP/2 (compat API, Node 20): a reset stream makes `Http2ServerResponse` emit 'finish' then
 * 'close' (so Fastify runs onResponse), and its `writableFinished` reads the stream's, which the
 * reset itself ends: both say "finished". The reliable signal is `writableEnded`: it is true only
 * once our side called `end()`, and a stream closed before that is exactly what Node flags as
 * `stream.aborted`. Node does not say which side sent RST_STREAM, so `rstCode` tells them apart:
 * NO_ERROR or CANCEL is a client that no longer wants the response (browsers, curl and an aborted
 * Node request send CANCEL; a dropped connection closes its streams with CANCEL), while an error
 * code (INTERNAL_ERROR, REFUSED_STREAM, ENHANCE_YOUR_CALM…) is what a server sends when it gives up
 * on a stream, so that is counted as a failed response, not an abandoned one.
 */
export function unfinishedStatus (raw: ServerResponse | Http2ServerResponse): number {
  if (!('stream' in raw)) return raw.writableFinished ? 0 : CLIENT_CLOSED_REQUEST
  if (raw.writableEnded) return 0
  const code = raw.stream.rstCode
  return code === h2.NGHTTP2_CANCEL || code === h2.NGHTTP2_NO_ERROR ? CLIENT_CLOSED_REQUEST : SERVER_RESET
}
