import { test } from 'tap'
import { storeIsolatingRefused, MAX_SPLITS_PER_BATCH } from '../../lib/collectors/warehouse/split.js'
import { DATA_REFUSED, REJECTED_HEADER, STORED, interpretStored, refused, refusedRows } from '../../lib/collectors/warehouse/common.js'
import type { HttpResponse } from '../../lib/batch/types.js'

/** A database in a function: refuses a piece holding any row in `bad` (as COPY or an INSERT does, whole), else keeps its rows. */
function database (bad: Set<string>) {
  const stored: string[] = []
  let requests = 0
  const attempt = async (body: string): Promise<HttpResponse> => {
    requests++
    const rows = body.split('\n').filter((row) => row !== '')
    const refusedRow = rows.find((row) => bad.has(row))
    if (refusedRow !== undefined) return refusedRows(`bad value in ${refusedRow}`)
    stored.push(...rows)
    return STORED
  }
  return { attempt, stored, requests: () => requests }
}

const rowsOf = (n: number): string[] => Array.from({ length: n }, (_, i) => `row${i}`)

test('refused rows are isolated and counted, every other row is stored once', async (t) => {
  for (const [n, badAt] of [[10_000, [4321]], [2000, [0, 1999]], [7, [3]], [1000, [10, 11, 500]]] as Array<[number, number[]]>) {
    const rows = rowsOf(n)
    const bad = new Set(badAt.map((i) => rows[i]))
    const db = database(bad)
    const response = await storeIsolatingRefused(rows.map((row) => row + '\n').join(''), db.attempt)
    t.equal(response.headers[REJECTED_HEADER], String(bad.size), `${n} rows, ${bad.size} refused: counted`)
    t.same(db.stored.sort(), rows.filter((row) => !bad.has(row)).sort(), 'the others stored, once each')
    t.ok(db.requests() <= 1 + 2 * bad.size * Math.ceil(Math.log2(n)), `${db.requests()} requests`)
    t.same(interpretStored(response), { outcome: 'delivered', rejected: bad.size, detail: response.body }, 'the verdict carries the count')
  }
})

test('past MAX_SPLITS_PER_BATCH, a piece still refused is rejected whole, and every row is still accounted for', async (t) => {
  const rows = rowsOf(10_000)
  const bad = new Set(rows.filter((_, i) => i % 50 === 0))
  const db = database(bad)
  const response = await storeIsolatingRefused(rows.map((row) => row + '\n').join(''), db.attempt)
  const rejected = Number(response.headers[REJECTED_HEADER])
  t.ok(db.requests() <= 1 + 2 * MAX_SPLITS_PER_BATCH, `bounded: ${db.requests()} requests`)
  t.equal(rejected + db.stored.length, rows.length, 'rejected + stored = the batch')
  t.ok(rejected > bad.size, `the cap was reached: ${rejected - bad.size} good rows were rejected with the ${bad.size} refused ones`)
  t.ok(db.stored.every((row) => !bad.has(row)), 'no refused row is counted stored')
})

test('answers that are not a data refusal pass through untouched; a single refused row is the refusal itself', async (t) => {
  const missing = refused('60: table is missing')
  t.equal(await storeIsolatingRefused('a\nb\n', async () => missing), missing)
  t.equal(await storeIsolatingRefused('a\nb\n', async () => STORED), STORED)
  const one = refusedRows('bad')
  t.equal(await storeIsolatingRefused('a\n', async () => one), one)
  t.equal(one.statusCode, DATA_REFUSED)
  t.same(interpretStored(one), { outcome: 'rejected', detail: 'bad' })
  await t.rejects(storeIsolatingRefused('a\nb\n', async (body) => {
    if (body === 'a\nb\n') return refusedRows('bad')
    throw new Error('connection reset')
  }), /connection reset/, 'a failure mid-split fails the attempt: the engine retries the whole batch')
})
