import { test } from 'tap'
import { readFileSync } from 'node:fs'

// The README shows the shipped DDL and report files in full; the database tests run those files.
// This keeps the three from drifting apart.
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

test('the README shows every shipped table and report file verbatim', async (t) => {
  for (const file of ['postgres.sql', 'clickhouse.sql', 'clickhouse-18.16.sql', 'reports/postgres.sql', 'reports/clickhouse.sql']) {
    const text = readFileSync(new URL(`../../schema/${file}`, import.meta.url), 'utf8').trimEnd()
    t.ok(readme.includes('```sql\n' + text + '\n```'), `README has schema/${file} in a sql block`)
  }
})
