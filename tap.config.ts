// tap reads its settings from the "tap" field of package.json, never from a TypeScript file.
// This file is wired in as that config's `before:` step: tap runs it once, under its own
// TypeScript loader, before any test file. It builds both formats (scripts/build.mjs: ESM in
// dist/lib, CommonJS in dist/cjs) so the tests that check the published surface
// (test/exports.test.ts, test/module-formats.test.ts, and tsd after tap) run against what npm ships.
//
// It builds only when dist/ was not built from exactly the current inputs (scripts/ensure-build.mjs,
// which `npm run demo`, `bench`, `soak`, typecheck and tsd share): each `tap` run of `npm test` and
// every `npx tap file` would otherwise spend two tsc runs rebuilding the same output.
// Tooling, not the library under test: which branches run depends on the last build, so coverage
// ignores this file (tap would otherwise print it as partly covered after every run).
/* c8 ignore start */
// @ts-expect-error: a plain .mjs script without declarations
import { ensureBuilt } from './scripts/ensure-build.mjs'

ensureBuilt()
/* c8 ignore stop */
