// tap reads its settings from the "tap" field of package.json, never from a TypeScript file.
// This file is wired in as that config's `before:` step: tap runs it once, under its own
// TypeScript loader, before any test file. It builds both formats (scripts/build.mjs: ESM in
// dist/lib, CommonJS in dist/cjs) so the tests that check the published surface
// (test/exports.test.ts, test/module-formats.test.ts, and tsd after tap) run against what npm ships.
import { execFileSync } from 'node:child_process'

execFileSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit', cwd: new URL('.', import.meta.url) })
