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
