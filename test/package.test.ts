import { test } from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync, statSync } from 'node:fs'
import { promisify } from 'node:util'

// What `npm publish` would ship (the `files` field, through npm itself), checked against dist/ as
// tap.config.ts built it. --ignore-scripts: no second build; the listing is all we want.
const run = promisify(execFile)
const root = new URL('../', import.meta.url)
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

let packed: Promise<Set<string>> | undefined
function packedFiles (): Promise<Set<string>> {
  packed ??= listPack()
  return packed
}

async function listPack (): Promise<Set<string>> {
  const { stdout } = await run(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, timeout: 60_000 })
  const [pack] = JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>
  return new Set(pack.files.map((file) => file.path))
}

test('no shipped file points at a file that is not shipped (source maps were dropped, issue 11 item 9)', async (t) => {
  const files = await packedFiles()
  t.ok(files.has('dist/lib/index.js'), 'the build is what ships')
  t.same([...files].filter((path) => path.endsWith('.map')), [], 'no .map files')
  const pointing = [...files].filter((path) => /\.(js|ts)$/.test(path) && readFileSync(new URL(path, root), 'utf8').includes('//# sourceMappingURL='))
  t.same(pointing, [], 'no shipped file carries a sourceMappingURL')
})

test('the docs ship with the package, so the README\'s links work from node_modules', async (t) => {
  const files = await packedFiles()
  t.ok(files.has('README.md'), 'README.md ships')
  for (const page of ['docs/privacy.md', 'docs/events-and-stats.md', 'docs/collectors/ga4.md', 'docs/architecture.md']) {
    t.ok(files.has(page), `${page} ships`)
  }
})

const EXAMPLES = ['demo', 'ga4', 'plausible', 'webhook', 'custom-collector']

test('the examples ship with the package and run as published', async (t) => {
  const files = await packedFiles()
  for (const name of EXAMPLES) t.ok(files.has(`examples/${name}.js`), `examples/${name}.js ships`)
  t.ok(files.has('examples/receiver.js'), 'with the local receiver they share')
  // They import 'fastify-analytics/…' by name: Node resolves that through the package's own
  // `exports` (self-reference), as it would inside node_modules. test/examples.test.ts runs the
  // destination examples and checks what their receivers got; the demo runs here.
  // The demo serves its dashboard until stopped: --once sends its traffic and exits.
  const { stderr } = await run(process.execPath, ['examples/demo.js', '--once'], { cwd: root, timeout: 45_000 })
  t.notMatch(stderr, /"level":(50|60)/, 'examples/demo.js exited 0 without an error log')
})

test('the published package has no install script: dist/ is built by the commands that need it, only when stale (issue 26)', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: Record<string, string> }
  for (const hook of ['preinstall', 'install', 'postinstall', 'prepare', 'preprepare', 'postprepare', 'prepublish']) {
    t.equal(pkg.scripts[hook], undefined, `no ${hook} script (npm 11 warns about install scripts, and users would build our dist/)`)
  }
  for (const script of ['typecheck', 'test:types', 'demo', 'bench', 'soak']) {
    t.match(pkg.scripts[script], /^node scripts\/ensure-build\.mjs( --quiet)? && /, `npm run ${script} builds dist/ first when it is stale`)
  }
  // tap.config.ts (tap's before-step) built dist/ from the current inputs before this file ran.
  const built = new URL('dist/lib/index.js', root)
  const before = statSync(built).mtimeMs
  const { stderr } = await run(process.execPath, ['scripts/ensure-build.mjs'], { cwd: root, timeout: 60_000 })
  t.match(stderr, /dist\/ is already built from the current lib\/ and build settings/)
  t.equal(statSync(built).mtimeMs, before, 'a current dist/ is not rebuilt (npm run demo spent 21 s of 34 rebuilding it)')
})
