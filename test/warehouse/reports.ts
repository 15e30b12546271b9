import { readFileSync } from 'node:fs'

/** The named queries of a shipped reports file (`-- name: x` before each). */
export function readReports (file: string): Map<string, string> {
  const text = readFileSync(new URL(`../../schema/reports/${file}`, import.meta.url), 'utf8')
  const reports = new Map<string, string>()
  for (const part of text.split(/^-- name: /m).slice(1)) {
    const newline = part.indexOf('\n')
    reports.set(part.slice(0, newline).trim(), part.slice(newline + 1).trim().replace(/;$/, ''))
  }
  return reports
}

/**
 * A report's rows in the shape of the expected ones: a value is compared as a number where the
 * expectation is a number (the drivers print 1.20, 1.2 or "6"), else as text.
 */
export function comparable (rows: Array<Record<string, unknown>>, expected: Array<Record<string, string | number>> | undefined): Array<Record<string, string | number>> {
  return rows.map((row, i) => Object.fromEntries(Object.entries(row).map(([key, value]) =>
    [key, typeof expected?.[i]?.[key] === 'number' ? Number(value) : String(value)])))
}
