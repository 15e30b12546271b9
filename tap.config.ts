// tap reads its settings from the "tap" field of package.json, never from a TypeScript file.
// This file is wired in as that config's `before:` step: tap runs it once, under its own
// TypeScript loader, before any test file. It compiles lib/ to dist/ so the tests that check
// the published surface (test/exports.test.ts, and tsd after tap) run against what npm ships.
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { rmSync } from 'node:fs'

const require = createRequire(import.meta.url)
const tsc = require.resolve('typescript/bin/tsc')

rmSync(new URL('./dist', import.meta.url), { recursive: true, force: true })
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit', cwd: new URL('.', import.meta.url) })
