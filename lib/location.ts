// The one module that needs its own address, which ESM spells `import.meta.url` and CommonJS
// `__dirname`. scripts/build.mjs replaces this file's CommonJS output with the `__dirname` spelling
// (`import.meta` is a syntax error in a CommonJS module), so the rest of lib/ compiles unchanged to
// both formats and finds its worker and the collectors' modules relative to itself.
import { fileURLToPath } from 'node:url'

// @ts-ignore TS1343 under the CommonJS compile only, whose output for this file is replaced
const here: string = import.meta.url

/** True when lib/ runs from its TypeScript sources (tap's loader): its modules end in `.ts` there. */
export const FROM_SOURCE: boolean = here.endsWith('.ts')

function libUrl (relative: string): URL {
  return new URL(`./${FROM_SOURCE ? relative.replace(/\.js$/, '.ts') : relative}`, here)
}

/** The file of a lib/ module named relative to lib/ with its built extension (`'collectors/ga4.js'`). */
export function libPath (relative: string): string {
  return fileURLToPath(libUrl(relative))
}

/** What `import()` takes for that module in this format: a file URL here, a path in CommonJS. */
export function libSpecifier (relative: string): string {
  return libUrl(relative).href
}
