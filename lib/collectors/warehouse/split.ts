import type { HttpResponse } from '../../batch/types.js'
import { DATA_REFUSED, REJECTED_HEADER, STORED } from './common.js'

/**
 * How many times one batch may be cut in two to isolate the rows the database refused. Isolating k
 * refused rows among n takes about 2k·log2(n/k) requests (28 for one row in a 10 000-row batch),
 * each a round trip and, on ClickHouse, one part for every piece stored: 64 splits (at most 129
 * requests) isolate two or three refused rows in the largest default batch. Past it, a refused
 * piece is counted `rejected` whole.
 */
export const MAX_SPLITS_PER_BATCH = 64

/**
 * Stores `body` (rows of one line each, as both row writers make them) with `attempt`. When the
 * database refuses it for its data, the batch is cut in halves, and refused halves again, until the
 * refused rows are alone: those are counted in the answer's `REJECTED_HEADER`, the rest stored.
 * An attempt that throws (a network error, a timeout) ends the split: the engine retries the whole
 * batch, which stores nothing twice (PostgreSQL skips ids it has, ClickHouse collapses them).
 */
export async function storeIsolatingRefused (body: string, attempt: (body: string) => Promise<HttpResponse>): Promise<HttpResponse> {
  const first = await attempt(body)
  if (first.statusCode !== DATA_REFUSED) return first
  const starts = lineStarts(body)
  const rows = starts.length - 1
  if (rows < 2) return first
  let splits = 1
  let rejected = 0
  let detail = ''
  // Pieces as [first row, end row); the left half is tried first (popped last-in).
  const pending: Array<[number, number]> = halves(0, rows)
  while (pending.length > 0) {
    const [start, end] = pending.pop() as [number, number]
    const response = await attempt(body.slice(starts[start], starts[end]))
    if (response.statusCode === 200) continue
    if (response.statusCode === DATA_REFUSED && end - start > 1 && splits < MAX_SPLITS_PER_BATCH) {
      splits++
      pending.push(...halves(start, end))
      continue
    }
    rejected += end - start
    if (detail === '') detail = response.body
  }
  return rejected === 0 ? STORED : { statusCode: 200, headers: { [REJECTED_HEADER]: String(rejected) }, body: detail }
}

function halves (start: number, end: number): Array<[number, number]> {
  const middle = start + Math.ceil((end - start) / 2)
  return [[middle, end], [start, middle]]
}

/** Offsets of each row's first character, plus the body's length: row i is [starts[i], starts[i + 1]). */
function lineStarts (body: string): number[] {
  const starts = [0]
  let at = body.indexOf('\n')
  while (at !== -1 && at + 1 < body.length) {
    starts.push(at + 1)
    at = body.indexOf('\n', at + 1)
  }
  starts.push(body.length)
  return starts
}
