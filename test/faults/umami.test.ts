// The fault matrix for the Umami collector: see ./matrix.ts for the phases and what each checks.
import { test } from 'tap'
import { ROWS, runRow } from './matrix.js'

for (const row of ROWS) {
  test(`umami × ${row.name}: the app keeps serving, memory stays bounded, the collector recovers, close() keeps its deadline and the accounting balances`, async (t) => {
    await runRow('umami', row, t)
  })
}
