import { test } from 'tap'
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
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
  // `exports` (self-reference), as it would inside node_modules.
  // In parallel (each listens on its own port 0), within tap's 60 s per file on a loaded machine.
  // The demo serves its dashboard until stopped: --once sends its traffic and exits.
  const runs = await Promise.all(EXAMPLES.map((name) => run(process.execPath, [`examples/${name}.js`, ...(name === 'demo' ? ['--once'] : [])], { cwd: root, timeout: 45_000 })))
  runs.forEach(({ stderr }, i) => t.notMatch(stderr, /"level":(50|60)/, `examples/${EXAMPLES[i]}.js exited 0 without an error log`))
})
