import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { libPath } from '../location.js'

/** How the hosted destinations name the sender (`mp_lib`, `$lib`): the plugin, not the vendor's SDK. */
export const LIBRARY_NAME = 'fastify-analytics'

/**
 * The plugin's version (`$lib_version`), from its package.json: found by walking up from lib/ (the
 * sources and both builds sit at different depths below it). '' if it cannot be read.
 */
export const LIBRARY_VERSION: string = readVersion()

function readVersion (): string {
  let dir = dirname(libPath('location.js'))
  for (let depth = 0; depth < 4; depth++) {
    try {
      const parsed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown, version?: unknown }
      if (parsed.name === LIBRARY_NAME && typeof parsed.version === 'string') return parsed.version
    } catch {}
    dir = dirname(dir)
  }
  return ''
}
