// tap reads its settings from the "tap" field of package.json, never from a TypeScript file.
// This file is wired in as that config's `before:` step: tap runs it once, under its own
// TypeScript loader, before any test file. It builds both formats (scripts/build.mjs: ESM in
// dist/lib, CommonJS in dist/cjs) so the tests that check the published surface
// (test/exports.test.ts, test/module-formats.test.ts, and tsd after tap) run against what npm ships.
//
// It builds only when dist/ was not built from exactly the current inputs (a digest of lib/, the
// tsconfigs, the build script and the lockfile, stamped into dist/ after a build that succeeded):
// each `tap` run of `npm test` (the tap and worker stages) and every `npx tap file` would otherwise
// spend two tsc runs, tens of seconds on a loaded machine, rebuilding the same output.
// Tooling, not the library under test: which branches run depends on the last build, so coverage
// ignores this file (tap would otherwise print it as partly covered after every run).
/* c8 ignore start */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'

const root = new URL('.', import.meta.url)
const STAMP = new URL('dist/.inputs-sha256', root)
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'tsconfig.cjs.json', 'scripts/build.mjs', 'package.json', 'package-lock.json']

function libFiles (dir: string): string[] {
  return readdirSync(new URL(dir, root), { withFileTypes: true })
    .flatMap((entry) => entry.isDirectory() ? libFiles(`${dir}/${entry.name}`) : [`${dir}/${entry.name}`])
}

function inputsDigest (): string {
  const hash = createHash('sha256')
  for (const file of [...INPUTS, ...libFiles('lib')].sort()) {
    const url = new URL(file, root)
    hash.update(`${file}\0`).update(existsSync(url) ? readFileSync(url) : '(missing)').update('\0')
  }
  return hash.digest('hex')
}

const digest = inputsDigest()
if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === digest) {
  console.log('dist/ is already built from the current lib/ and build settings')
} else {
  // build.mjs empties dist/ first, so a failed build leaves no stamp behind.
  execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit', cwd: root })
  writeFileSync(STAMP, digest)
}
/* c8 ignore stop */
