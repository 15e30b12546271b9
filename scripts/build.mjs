// Builds both formats users load: ESM in dist/lib, CommonJS in dist/cjs/lib (the official Fastify
// plugins are CommonJS, and require() of ESM needs Node 20.19+ without --no-experimental-require-module).
// A package.json of type commonjs beside the CommonJS build makes Node and TypeScript read its .js and
// .d.ts files as CommonJS although the package itself is "type": "module".
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { cpSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = new URL('../', import.meta.url)
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

rmSync(new URL('dist', root), { recursive: true, force: true })
for (const project of ['tsconfig.build.json', 'tsconfig.cjs.json']) {
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit', cwd: root })
}
await bundleEsm()
mkdirSync(new URL('dist/cjs', root), { recursive: true })
writeFileSync(new URL('dist/cjs/package.json', root), '{ "type": "commonjs" }\n')
// lib/location.ts reads import.meta.url, which CommonJS cannot parse: its CommonJS output is
// this equivalent on __dirname (same exports, so the compiled .d.ts stays true).
writeFileSync(new URL('dist/cjs/lib/location.js', root), `'use strict'
Object.defineProperty(exports, '__esModule', { value: true })
const { join } = require('node:path')
exports.FROM_SOURCE = false
exports.libPath = (relative) => join(__dirname, relative)
exports.libSpecifier = exports.libPath
`)

// The CommonJS entry is the plugin itself, carrying every named export, as the official Fastify
// plugins' entries are: `app.register(require('fastify-analytics'))` works at run time, and so must
// TypeScript's `import analytics = require('fastify-analytics')` (a module object is no plugin to
// `register`'s types: TS2769). tsc cannot emit `export =` from an ES module source, so its output
// moves to exports.js and the entry is written here: a function merged with a namespace holding
// every export of exports.d.ts (fastify-plugin's and the Fastify plugins' own typing pattern).
const cjs = new URL('dist/cjs/lib/', root)
renameSync(new URL('index.js', cjs), new URL('exports.js', cjs))
// `export type { … }` (or `export { type X }`) anywhere on a re-export chain would stop `export import X = api.X` below
// (TS1379); in a .d.ts a plain `export { … }` of a type means the same.
for (const file of declarationFiles(cjs)) {
  const text = readFileSync(file, 'utf8')
  const plain = text.replace(/^export (?:type )?\{[^}]*\}/gm, (list) => list.replace(/^export type \{/, 'export {').replace(/([{,]\s*)type (?=\w)/g, '$1'))
  if (plain !== text) writeFileSync(file, plain)
}
const declarations = readFileSync(new URL('index.d.ts', cjs), 'utf8')
renameSync(new URL('index.d.ts', cjs), new URL('exports.d.ts', cjs))
writeFileSync(new URL('index.js', cjs), `'use strict'
// Written by scripts/build.mjs: the plugin, carrying every named export (default included).
const api = require('./exports.js')
module.exports = Object.assign(api.analytics, api)
`)
writeFileSync(new URL('index.d.ts', cjs), `// Written by scripts/build.mjs: the plugin, merged with a namespace of every named export.
import api = require('./exports.js')
declare function analytics (...args: Parameters<typeof api.analytics>): ReturnType<typeof api.analytics>
declare namespace analytics {
${exportedNames(declarations).map((name) => `  export import ${name} = api.${name}`).join('\n')}
  export { analytics as default }
}
export = analytics
`)

// The dashboard's page, script and style are files, not TypeScript: copied beside both builds, where
// lib/dashboard reads them (libPath) at registration.
for (const out of ['dist/lib/dashboard/assets', 'dist/cjs/lib/dashboard/assets']) {
  cpSync(new URL('lib/dashboard/assets', root), new URL(out, root), { recursive: true })
}

/**
 * The ESM build as loaded: one file per entry (each package.json subpath, and the worker, which
 * loads the collectors' entries by path) and chunks of the code they share, in place of tsc's one
 * file per module. Node 20's ESM loader pays about 1 ms per module resolved, read and linked: the
 * plugin and the stdout collector were ~45 modules, ~70 ms of CPU at start against ~30 bundled
 * (bench section 7). Shared code sits in chunks, never copied into two entries, so a module's state
 * (the helpers' store, the error classes) is one instance whichever subpaths an app imports.
 * tsc's .d.ts files stay as they are; its .js files the bundle replaces are removed.
 */
async function bundleEsm () {
  const out = fileURLToPath(new URL('dist/lib/', root))
  const lib = fileURLToPath(new URL('lib/', root))
  const manifest = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
  const targets = Object.values(manifest.exports)
    .map((target) => target?.import?.default)
    .filter((target) => typeof target === 'string' && target.startsWith('./dist/lib/'))
  const entryPoints = [...targets.map((target) => target.slice('./dist/lib/'.length)), 'worker/worker.js']
    .map((file) => join(lib, file.replace(/\.js$/, '.ts')))
  // tsc's one-file-per-module output stays in dist/modules (not published: package.json `files`):
  // the benches time internal functions (attribution, privacy, encoding) by importing them.
  cpSync(out, fileURLToPath(new URL('dist/modules/lib/', root)), { recursive: true })
  const result = await build({
    entryPoints,
    outbase: lib,
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    // Chunks beside index.js: lib/location.ts resolves lib/ paths relative to the file it lands in.
    chunkNames: 'chunk-[hash]',
    metafile: true,
    logLevel: 'warning',
    plugins: [withPluginCore(join(lib, 'index.ts'), new Set(entryPoints))]
  })
  const written = new Set(Object.keys(result.metafile.outputs).map((file) => join(fileURLToPath(root), file)))
  const home = Object.entries(result.metafile.outputs).find(([, output]) => Object.keys(output.inputs).some((input) => input.endsWith('lib/location.ts')))
  if (home === undefined || relative(out, join(fileURLToPath(root), home[0])).includes('/')) {
    throw new Error(`scripts/build.mjs: lib/location.ts must land in a file directly in dist/lib (it is in ${home?.[0]})`)
  }
  for (const entry of readdirSync(out, { withFileTypes: true, recursive: true })) {
    const file = join(entry.parentPath ?? entry.path, entry.name)
    if (entry.isFile() && entry.name.endsWith('.js') && !written.has(file)) unlinkSync(file)
  }
}

/**
 * Every other entry also imports the plugin's entry (an app that loads a collector has loaded the
 * plugin): the modules the plugin uses are then reached from every entry alike and land in one
 * chunk, instead of one small chunk per combination of entries that share them (two dozen files
 * for an app with stdout, each a loader round trip).
 */
function withPluginCore (index, entries) {
  return {
    name: 'plugin-core',
    setup (builder) {
      builder.onLoad({ filter: /\.ts$/ }, (args) => {
        if (!entries.has(args.path) || args.path === index) return undefined
        const source = readFileSync(args.path, 'utf8')
        const specifier = relative(join(args.path, '..'), index).replace(/\.ts$/, '.js')
        return { contents: `${source}\nimport '${specifier.startsWith('.') ? specifier : `./${specifier}`}'\n`, loader: 'ts' }
      })
    }
  }
}

function declarationFiles (dir) {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.d.ts'))
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name))
}

/** The names a tsc-generated index.d.ts exports; it holds only `export { … }` lists and `export default`. */
function exportedNames (source) {
  const names = new Set()
  for (const statement of source.split(/;\s*\n/)) {
    const text = statement.trim()
    if (text === '' || text.startsWith('import ') || /^export default \w+$/.test(text)) continue
    const list = /^export \{([^}]*)\}(?: from '[^']+')?$/.exec(text)
    if (list === null) throw new Error(`scripts/build.mjs: unexpected statement in dist/cjs/lib/index.d.ts: ${text.slice(0, 80)}`)
    for (const item of list[1].split(',')) {
      const name = item.trim().split(/\s+as\s+/).at(-1)
      if (name !== undefined && name !== '' && name !== 'default') names.add(name)
    }
  }
  if (!names.has('analytics')) throw new Error('scripts/build.mjs: dist/cjs/lib/index.d.ts does not export analytics')
  return [...names]
}
