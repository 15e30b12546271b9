// The fault matrix for the webhook collector with delivery: 'worker' (see ./matrix.ts): the same checks,
// the collector running in the delivery worker thread. Four rows here (each starts a worker, which
// under tap compiles the sources itself); `npm run test:worker` runs every row in worker mode.
import { test } from 'tap'
import { ROWS, runRow } from './matrix.js'

const WORKER_ROWS = new Set(['connection refused', 'never answers', '5xx burst then recovery', '400'])

for (const row of ROWS.filter((r) => WORKER_ROWS.has(r.name))) {
  test(`webhook (worker) × ${row.name}: the app keeps serving, memory stays bounded, the collector recovers, close() keeps its deadline and the accounting balances`, async (t) => {
    await runRow('webhook', row, t, 'worker')
  })
}
