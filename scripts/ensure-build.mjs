// Builds dist/ (scripts/build.mjs) only when it was not built from exactly the current inputs: a
// digest of lib/, the tsconfigs, the build script and the lockfile, stamped into dist/ after a build
// that succeeded. Every command that needs the build starts here — tap's before-step
// (tap.config.ts), the typecheck and tsd stages, `npm run demo`, `bench` and `soak` — so a fresh
// clone needs no install script (the package ships none: npm 11 warns about them), and a current
// dist/ costs a hash of a few hundred files instead of two tsc runs (21 s of the demo's 34 s).
//
//   node scripts/ensure-build.mjs      build if stale, else say so
//
// Tooling, not the library under test: tap's before-step (tap.config.ts) loads it under coverage, and
// which branches run depends on the last build, so coverage ignores it (as it does tap.config.ts).
/* c8 ignore start */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = new URL('../', import.meta.url)
const STAMP = new URL('dist/.inputs-sha256', root)
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'tsconfig.cjs.json', 'scripts/build.mjs', 'package.json', 'package-lock.json']

function libFiles (dir) {
  return readdirSync(new URL(dir, root), { withFileTypes: true })
    .flatMap((entry) => entry.isDirectory() ? libFiles(`${dir}/${entry.name}`) : [`${dir}/${entry.name}`])
}

/** The digest of every input of the build. */
export function inputsDigest () {
  const hash = createHash('sha256')
  for (const file of [...INPUTS, ...libFiles('lib')].sort()) {
    const url = new URL(file, root)
    hash.update(`${file}\0`).update(existsSync(url) ? readFileSync(url) : '(missing)').update('\0')
  }
  return hash.digest('hex')
}

/** Builds unless dist/ is current; returns whether it built. */
export function ensureBuilt ({ quiet = false } = {}) {
  const digest = inputsDigest()
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === digest) {
    if (!quiet) console.error('dist/ is already built from the current lib/ and build settings')
    return false
  }
  // build.mjs empties dist/ first, so a failed build leaves no stamp behind.
  execFileSync(process.execPath, [fileURLToPath(new URL('scripts/build.mjs', root))], { stdio: 'inherit', cwd: root })
  writeFileSync(STAMP, digest)
  return true
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureBuilt({ quiet: process.argv.includes('--quiet') })
/* c8 ignore stop */
