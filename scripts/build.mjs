// Builds both formats users load: ESM in dist/lib, CommonJS in dist/cjs/lib (the official Fastify
// plugins are CommonJS, and require() of ESM needs Node 20.19+ without --no-experimental-require-module).
// A package.json of type commonjs beside the CommonJS build makes Node and TypeScript read its .js and
// .d.ts files as CommonJS although the package itself is "type": "module".
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'

const root = new URL('../', import.meta.url)
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

rmSync(new URL('dist', root), { recursive: true, force: true })
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit', cwd: root })
}
mkdirSync(new URL('dist/cjs', root), { recursive: true })
writeFileSync(new URL('dist/cjs/package.json', root), '{ "type": "commonjs" }\n')
// lib/worker/location.ts reads import.meta.url, which CommonJS cannot parse: its CommonJS output is
// this equivalent on __dirname (same exports, so the compiled .d.ts stays true).
writeFileSync(new URL('dist/cjs/lib/worker/location.js', root), `'use strict'
Object.defineProperty(exports, '__esModule', { value: true })
const { join } = require('node:path')
exports.FROM_SOURCE = false
exports.libPath = (relative) => join(__dirname, '..', relative)
exports.libSpecifier = exports.libPath
`)
// The dashboard's page, script and style are files, not TypeScript: copied beside both builds, where
// lib/dashboard reads them (libPath) at registration.
for (const out of ['dist/lib/dashboard/assets', 'dist/cjs/lib/dashboard/assets']) {
  cpSync(new URL('lib/dashboard/assets', root), new URL(out, root), { recursive: true })
}
