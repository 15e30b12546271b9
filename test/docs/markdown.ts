import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import GithubSlugger from 'github-slugger'

// What the docs test reads from the Markdown: fenced code blocks (with the line they start on, so a
// failure names file:line), links, and the anchors GitHub gives headings. Written by hand rather
// than with a Markdown parser: the parsers at hand (marked, mdast) give no source lines for blocks,
// and these pages use only plain ``` fences, [text](target) links and ATX headings.

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

export interface CodeBlock {
  /** Path relative to the project root, e.g. `docs/collectors/ga4.md`. */
  file: string
  /** 1-based line of the opening fence. */
  line: number
  /** The info string's first word; `''` for an untagged block. */
  lang: string
  code: string
}

export interface Link {
  file: string
  line: number
  target: string
}

/** README.md and every page under docs/, project-relative, in a stable order. */
export function markdownFiles (): string[] {
  const pages: string[] = []
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.md')) pages.push(path)
    }
  }
  walk('docs')
  return ['README.md', ...pages.sort()]
}

interface Parsed {
  blocks: CodeBlock[]
  /** Lines outside code blocks, with their 1-based numbers. */
  prose: Array<{ line: number, text: string }>
}

const FENCE = /^(\s*)(`{3,}|~{3,})(.*)$/

function parse (file: string): Parsed {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n')
  const blocks: CodeBlock[] = []
  const prose: Parsed['prose'] = []
  let open: { fence: string, line: number, lang: string, body: string[] } | undefined
  lines.forEach((text, i) => {
    const fence = FENCE.exec(text)
    if (open === undefined) {
      if (fence === null) prose.push({ line: i + 1, text })
      else open = { fence: fence[2], line: i + 1, lang: fence[3].trim().split(/\s+/)[0] ?? '', body: [] }
    } else if (fence !== null && fence[2].startsWith(open.fence) && fence[3].trim() === '') {
      blocks.push({ file, line: open.line, lang: open.lang, code: open.body.join('\n') + '\n' })
      open = undefined
    } else {
      open.body.push(text)
    }
  })
  if (open !== undefined) throw new Error(`${file}:${open.line}: code block never closed`)
  return { blocks, prose }
}

export function codeBlocks (file: string): CodeBlock[] {
  return parse(file).blocks
}

/** Links in prose (not in code blocks or inline code), external ones included. */
export function links (file: string): Link[] {
  const found: Link[] = []
  for (const { line, text } of parse(file).prose) {
    const withoutCode = text.replace(/`[^`]*`/g, '')
    for (const match of withoutCode.matchAll(/\]\(([^)\s]+)\)/g)) found.push({ file, line, target: match[1] })
  }
  return found
}

/** The anchors GitHub generates for the file's headings (duplicates get -1, -2 … as on GitHub). */
export function anchors (file: string): Set<string> {
  const slugger = new GithubSlugger()
  const result = new Set<string>()
  for (const { text } of parse(file).prose) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)
    if (heading !== null) result.add(slugger.slug(heading[1].replace(/`/g, '')))
  }
  return result
}

export interface Table {
  file: string
  /** 1-based line of the table's first row. */
  line: number
  rows: string[]
}

/** Runs of consecutive prose lines that start with `|`: what a reader means as a table. */
export function tables (file: string): Table[] {
  const found: Table[] = []
  let previous = -1
  for (const { line, text } of parse(file).prose) {
    if (!text.startsWith('|')) continue
    const last = found.at(-1)
    if (last !== undefined && line === previous + 1) last.rows.push(text)
    else found.push({ file, line, rows: [text] })
    previous = line
  }
  return found
}

/** GFM renders a table only when a header row is followed by a delimiter row of the same width. */
export function tableProblem (table: Table): string | undefined {
  const cells = (row: string): string[] => row.replace(/\\\|/g, '').replace(/`[^`]*`/g, 'code').split('|').slice(1, -1)
  const [header, delimiter] = table.rows
  if (/^\|(\s*:?-+:?\s*\|)+\s*$/.test(header)) return 'starts with a delimiter row: no header row, so it renders as text'
  if (delimiter === undefined || !/^\|(\s*:?-+:?\s*\|)+\s*$/.test(delimiter)) return 'its second row is not a delimiter row (|---|---|)'
  if (cells(header).length !== cells(delimiter).length) return `header has ${cells(header).length} cells, the delimiter row ${cells(delimiter).length}`
  return undefined
}
