import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { test } from 'tap'

// Data flows one way (docs/architecture.md): a module may import its own layer or those below it,
// never one above. Higher rank = higher layer; a folder's files share its rank.
const RANKS: Array<[string, number]> = [
  ['util.ts', 0],
  ['text.ts', 0],
  ['location.ts', 0],
  ['errors.ts', 1],
  ['log.ts', 2],
  ['money.ts', 2],
  ['id.ts', 2],
  ['client.ts', 3],
  ['privacy/', 3],
  ['attribution/', 2],
  ['crawlers/', 2],
  ['geo/', 2],
  ['event.ts', 3],
  ['attribution/', 3],
  ['geo/', 3],
  ['event-json.ts', 4],
  ['abandon.ts', 4],
  ['collector.ts', 4],
  ['worker/descriptor.ts', 4],
  ['worker/codec.ts', 4],
  ['worker/snapshot.ts', 4],
  ['pipeline/counters.ts', 2],
  ['pipeline/facts.ts', 4],
  ['http/', 5],
  ['batch/', 6],
  ['collectors/', 7],
  ['enrich.ts', 7],
  ['visits/', 7],
  ['options.ts', 7],
  ['pipeline/', 8],
  ['worker/protocol.ts', 8],
  ['worker/capture-codec.ts', 8],
  ['worker/host.ts', 8],
  ['worker/worker.ts', 9],
  ['worker/plan.ts', 10],
  ['fan-out.ts', 8],
  // The dashboard reads the stores the collectors write; nothing of the event pipeline imports it.
  ['dashboard/', 8],
  ['tracker.ts', 9],
  ['request-analytics.ts', 10],
  ['helpers.ts', 11],
  ['scope.ts', 11],
  ['plugin.ts', 12],
  // Reads the counters of the live registrations (helpers.ts) for waitFor's timeout message.
  ['testing.ts', 12],
  ['index.ts', 13],
  ['otel.ts', 13]
]

const LIB = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'lib')

function rank (file: string): number | undefined {
  const path = relative(LIB, file).split('\\').join('/')
  return RANKS.find(([prefix]) => prefix.endsWith('/') ? path.startsWith(prefix) : path === prefix)?.[1]
}

function sources (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

test('no module in lib/ imports from a layer above its own', async (t) => {
  const files = sources(LIB)
  t.ok(files.length > 40, 'the sources were found')
  const upward: string[] = []
  for (const file of files) {
    const own = rank(file)
    t.not(own, undefined, `${relative(LIB, file)} has a layer (add it to RANKS)`)
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/^(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)) {
      const target = resolve(dirname(file), specifier.replace(/\.js$/, '.ts'))
      const theirs = rank(target)
      if (own !== undefined && theirs !== undefined && theirs > own) upward.push(`${relative(LIB, file)} → ${relative(LIB, target)}`)
    }
  }
  t.same(upward, [], 'imports that run back up the layers')
})
