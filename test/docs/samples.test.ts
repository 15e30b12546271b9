import t from 'tap'
import { execFile } from 'node:child_process'
import { createRequire } from 'node:module'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { anchors, codeBlocks, links, markdownFiles, ROOT, tableProblem, tables, type CodeBlock } from './markdown.js'
import { startStandIns } from './stand-ins.js'

// Every fenced block of README.md and docs/**/*.md is checked as a reader would use it, against the
// package as built by tap.config.ts (through its own name: Node's and TypeScript's self-reference
// resolve `fastify-analytics/...` through package.json `exports` for files inside the package):
//   js / mjs / cjs  run with node, each in its own process, and must exit 0 within SAMPLE_TIMEOUT_MS;
//   ts              type-check together in one `tsc --strict` program (module nodenext), each its own module;
//   json            parses;  sh / bash: every `npm run X` names a script of package.json (never executed);
//   sql             is byte for byte one of the files under schema/: the warehouse tests run those files
//                   against real PostgreSQL and ClickHouse, so the docs cannot show SQL they do not run;
//   text            output shown to the reader: not checked. Any other tag, or none, fails.
// Samples run as pasted with no network but loopback: test/docs/loopback.mjs is preloaded into each
// and sends the destinations the docs name to local stand-ins (test/docs/stand-ins.ts) that check
// what they receive against the destination's rules; any other host fails the sample. The runner
// sets the environment variables the samples read (SAMPLE_ENV below): PORT=0 so a sample that
// listens takes a free port, secrets with made-up values, database URLs no sample connects to.

const SAMPLE_TIMEOUT_MS = 30_000
// Two at a time: the machine has two cores, and each sample is a Node process loading Fastify.
const CONCURRENCY = 2
const SAMPLE_ENV: Record<string, string> = {
  PORT: '0',
  GA4_API_SECRET: 'docs-sample-api-secret',
  ANALYTICS_WEBHOOK_SECRET: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
  HOOK_TOKEN: 'docs-sample-token',
  DATABASE_URL: 'postgres://docs@127.0.0.1:9/docs',
  REDIS_URL: 'redis://127.0.0.1:9',
  CLICKHOUSE_PASSWORD: 'docs-sample-password',
  // The DuckDB samples' file: in memory, so samples running at once never share a file or leave one behind.
  ANALYTICS_DB: ':memory:'
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const preload = fileURLToPath(new URL('loopback.mjs', import.meta.url))
const runDir = join(ROOT, '.docs-samples', String(process.pid))
// tsc over Fastify's and Node's types plus a few dozen Node processes, on a machine shared with others.
t.setTimeout(240_000)
rmSync(runDir, { recursive: true, force: true })
mkdirSync(runDir, { recursive: true })
t.teardown(() => {
  rmSync(runDir, { recursive: true, force: true })
  try { rmdirSync(dirname(runDir)) } catch {} // another run may still be using it
})

const pages = markdownFiles()
const blocks = pages.flatMap(codeBlocks)
const where = (block: CodeBlock): string => `${block.file}:${block.line}`
/** A file name that says where the sample comes from. */
const sampleName = (block: CodeBlock, ext: string): string => `${block.file.replace(/[/.]/g, '_')}_L${block.line}.${ext}`

interface Outcome { code: number | null, signal: string | null, timedOut: boolean, stdout: string, stderr: string }

function run (args: string[], env: NodeJS.ProcessEnv, timeout: number): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, env, timeout, killSignal: 'SIGKILL', maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const failure = error as (Error & { code?: number | string, killed?: boolean, signal?: string }) | null
      resolve({
        code: failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null,
        signal: failure?.signal ?? null,
        timedOut: failure?.killed === true,
        stdout,
        stderr
      })
    })
  })
}

/** At most `limit` of `work` at once, results in input order. Hand-written: eight lines, no dependency. */
async function inBatches<T, R> (items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      results[i] = await work(items[i])
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

const tail = (text: string): string => text.length > 3000 ? '…' + text.slice(-3000) : text

// The TypeScript program is started now and checked in its own test: it overlaps the JS samples.
const tsSamples = blocks.filter((block) => block.lang === 'ts')
const tsDir = join(runDir, 'ts')
const tsFiles = new Map<string, CodeBlock>()
mkdirSync(tsDir, { recursive: true })
for (const block of tsSamples) {
  const name = sampleName(block, 'ts')
  tsFiles.set(name, block)
  writeFileSync(join(tsDir, name), block.code)
}
// The README's Options table must have a row for every plugin option: the option names of its first
// column, against `keyof AnalyticsOptions` in the same program. An error in this file names the
// option with no row.
const OPTIONS_CHECK = 'readme-options-table.ts'
const optionsSection = readFileSync(join(ROOT, 'README.md'), 'utf8').split('\n## Options\n')[1]?.split('\n## ')[0] ?? ''
const documented = [...optionsSection.matchAll(/^\| ([^|]+) \|/gm)].flatMap(([, cell]) => [...cell.matchAll(/`(\w+)`/g)].map(([, name]) => name))
writeFileSync(join(tsDir, OPTIONS_CHECK), [
  "import type { AnalyticsOptions } from 'fastify-analytics'",
  `type Documented = ${documented.map((name) => `'${name}'`).join(' | ') || 'never'}`,
  'type Missing = Exclude<keyof AnalyticsOptions, Documented>',
  "export const optionsWithoutARow: [Missing] extends [never] ? 'none' : Missing = 'none'",
  ''
].join('\n'))
writeFileSync(join(tsDir, 'tsconfig.json'), JSON.stringify({
  compilerOptions: {
    strict: true,
    noEmit: true,
    target: 'ES2022',
    lib: ['ES2022'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    // A sample with no import is still its own module, as in a reader's project.
    moduleDetection: 'force',
    types: ['node'],
    // The .d.ts files themselves are checked by test/module-formats (node10, skipLibCheck off).
    skipLibCheck: true
  },
  files: [...tsFiles.keys(), OPTIONS_CHECK]
}))
const typeCheck = run([tsc, '-p', join(tsDir, 'tsconfig.json'), '--pretty', 'false'], { ...process.env, NODE_OPTIONS: '' }, 180_000)

t.test('the docs have code samples to check', async (t) => {
  t.ok(pages.includes('README.md') && pages.length > 10, `README.md and the docs pages (${pages.length})`)
  t.ok(blocks.length > 25, `${blocks.length} code blocks found`)
})

t.test('every code block is in a checked language (text for output shown to the reader)', async (t) => {
  const known = new Set(['js', 'mjs', 'cjs', 'ts', 'json', 'sh', 'bash', 'sql', 'text'])
  for (const block of blocks) {
    t.ok(known.has(block.lang), `${where(block)}: language ${JSON.stringify(block.lang)}`)
  }
})

t.test('every JavaScript sample runs as pasted against the built package, with no network but loopback', async (t) => {
  const samples = blocks.filter((block) => ['js', 'mjs', 'cjs'].includes(block.lang))
  const standIns = await startStandIns()
  t.teardown(() => standIns.close())
  const caFile = join(runDir, 'stand-ins-ca.pem')
  writeFileSync(caFile, standIns.caPem)
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...SAMPLE_ENV,
    DOCS_SAMPLE_ROUTES: JSON.stringify(standIns.routes),
    NODE_EXTRA_CA_CERTS: caFile
  }
  // tap's loader and coverage collection have no business in a reader's process.
  delete env.NODE_OPTIONS
  delete env.NODE_V8_COVERAGE
  const outcomes = await inBatches(samples, CONCURRENCY, async (block) => {
    const file = join(runDir, 'js', sampleName(block, block.lang === 'cjs' ? 'cjs' : 'mjs'))
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, block.code)
    return run(['--import', preload, file], env, SAMPLE_TIMEOUT_MS)
  })
  samples.forEach((block, i) => {
    const outcome = outcomes[i]
    const what = outcome.timedOut ? `timed out after ${SAMPLE_TIMEOUT_MS} ms` : outcome.code === 0 ? 'exit 0' : `exit ${outcome.code ?? outcome.signal}`
    t.ok(outcome.code === 0 && !outcome.timedOut, `${where(block)} (${block.lang}): ${what}`, outcome.code === 0 ? {} : { stderr: tail(outcome.stderr), stdout: tail(outcome.stdout) })
  })
  const received = Object.values(standIns.sinks).reduce((sum, sink) => sum + sink.requests.length, 0)
  t.ok(received > 0, `the samples that send reached the stand-ins (${received} requests)`)
  for (const [name, sink] of Object.entries(standIns.sinks)) t.same(sink.violations, [], `what reached the ${name} stand-in follows its rules`)
})

t.test('every TypeScript sample type-checks under --strict (module nodenext) against the built types, and every plugin option has a README row', async (t) => {
  const outcome = await typeCheck
  // tsc names each error `path(line,col): error TS…`; point it at the Markdown line instead.
  const errors = outcome.stdout.split('\n').filter((line) => line.trim() !== '').map((line) => {
    const match = /([^/\\(]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line)
    const block = match === null ? undefined : tsFiles.get(match[1])
    if (match !== null && match[1] === OPTIONS_CHECK) return `README.md ## Options: a plugin option has no row in the table: ${match[4]}`
    return block === undefined || match === null ? line : `${block.file}:${block.line + Number(match[2])}:${match[3]} ${match[4]}`
  })
  t.ok(tsSamples.length > 0, `${tsSamples.length} TypeScript samples`)
  t.same(errors, [], 'tsc --strict reports no error')
  t.equal(outcome.code, 0, 'tsc exits 0')
})

t.test('every json block parses', async (t) => {
  for (const block of blocks.filter((block) => block.lang === 'json')) {
    t.doesNotThrow(() => JSON.parse(block.code), where(block))
  }
})

t.test('every `npm run X` in a shell block is a script of package.json', async (t) => {
  const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts)
  for (const block of blocks.filter((block) => block.lang === 'sh' || block.lang === 'bash')) {
    for (const [, script] of block.code.matchAll(/\bnpm run(?:\s+--?[\w-]+)*\s+([\w:.-]+)/g)) {
      t.ok(scripts.includes(script), `${where(block)}: npm run ${script}`)
    }
  }
})

t.test('every sql block is one of the files under schema/ (which the warehouse tests run)', async (t) => {
  const shipped = new Map<string, string>()
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) walk(path)
      else if (entry.name.endsWith('.sql')) shipped.set(readFileSync(join(ROOT, path), 'utf8').trimEnd(), path)
    }
  }
  walk('schema')
  for (const block of blocks.filter((block) => block.lang === 'sql')) {
    const file = shipped.get(block.code.trimEnd())
    t.ok(file !== undefined, `${where(block)} is ${file ?? 'no file under schema/'}`)
  }
})

t.test('every relative link and #anchor in README.md and docs/ resolves', async (t) => {
  let checked = 0
  for (const page of pages) {
    for (const link of links(page)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(link.target)) continue // https:, mailto: — not ours to check offline
      checked++
      const [path, anchor] = link.target.split('#', 2)
      const target = path === '' ? page : relative(ROOT, join(ROOT, dirname(page), decodeURIComponent(path)))
      const exists = existsSync(join(ROOT, target))
      t.ok(exists && !target.startsWith('..'), `${link.file}:${link.line}: ${link.target} (${target}) exists in the project`)
      if (exists && anchor !== undefined) {
        t.ok(target.endsWith('.md') && anchors(target).has(anchor), `${link.file}:${link.line}: #${anchor} is a heading of ${target}`)
      }
    }
  }
  t.ok(checked > 50, `${checked} links checked`)
})

t.test('every table in README.md and docs/ renders as a table: a header row, then the delimiter row (issue 26: the Options table had none)', async (t) => {
  const all = pages.flatMap(tables)
  t.ok(all.some((table) => table.file === 'README.md' && table.rows.some((row) => row.startsWith('| `collectors` |'))), 'the README Options table is among them')
  for (const table of all) t.equal(tableProblem(table), undefined, `${table.file}:${table.line}`)
})
