/** One HTTP request, built once and re-sent byte for byte on every retry. */
export interface OutgoingRequest {
  /** Path and query on the collector's origin. May hold a secret: never logged as is. */
  path: string
  headers: Record<string, string>
  body: string | Uint8Array
  /** How many accepted events this request carries (for accounting). */
  events: number
}

/** A response as collectors see it: the body is read up to 64 KiB, the rest is discarded. */
export interface HttpResponse {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  body: string
}
