import { test } from 'tap'
import { readFileSync } from 'node:fs'

// The docs show the shipped DDL and report files in full; the database tests run those files.
// This keeps the three from drifting apart (test/docs/samples.test.ts checks the other direction:
// every sql block is one of these files).
const PAGES = {
  'postgres.sql': 'docs/collectors/postgres.md',
  'clickhouse.sql': 'docs/collectors/clickhouse.md',
  'clickhouse-18.16.sql': 'docs/collectors/clickhouse.md',
  'reports/postgres.sql': 'docs/reports.md',
  'reports/clickhouse.sql': 'docs/reports.md',
  'duckdb.sql': 'docs/collectors/duckdb.md',
  'reports/duckdb.sql': 'docs/reports.md'
}

test('the docs show every shipped table and report file verbatim', async (t) => {
  for (const [file, page] of Object.entries(PAGES)) {
    const doc = readFileSync(new URL(`../../${page}`, import.meta.url), 'utf8')
    const text = readFileSync(new URL(`../../schema/${file}`, import.meta.url), 'utf8').trimEnd()
    t.ok(doc.includes('```sql\n' + text + '\n```'), `${page} has schema/${file} in a sql block`)
  }
})
