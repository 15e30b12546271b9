// Prints the top frames of a V8 .cpuprofile (from `node --cpu-prof`), by self time, or by
// inclusive time with `--inclusive [substring]` (only frames whose location contains it):
//   node bench/top-frames.js file.cpuprofile [count] [--inclusive dist/lib]
import { readFileSync } from 'node:fs'
import { relative } from 'node:path'

function frameName (node) {
  const { functionName, url, lineNumber } = node.callFrame
  const where = url === '' ? '' : `${relative(process.cwd(), url.replace(/^file:\/\//, ''))}:${lineNumber + 1}`
  return `${functionName || '(anonymous)'} ${where}`.trim()
}

export function topFrames (file, count = 25, { inclusive = false, filter = '' } = {}) {
  const profile = JSON.parse(readFileSync(file, 'utf8'))
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const parent = new Map()
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id)
  const time = new Map()
  const deltas = profile.timeDeltas
  let total = 0
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = deltas[i] ?? 0
    total += dt
    let id = profile.samples[i]
    const seen = new Set()
    do {
      const name = frameName(byId.get(id))
      // Recursion counts once per sample.
      if (!seen.has(name) && name.includes(filter)) {
        seen.add(name)
        time.set(name, (time.get(name) ?? 0) + dt)
      }
      if (!inclusive) break
      id = parent.get(id)
    } while (id !== undefined)
  }
  return [...time.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([frame, us]) => ({ frame, selfMs: Math.round(us / 1000), share: us / total }))
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2)
  const at = args.indexOf('--inclusive')
  const options = at === -1 ? {} : { inclusive: true, filter: args[at + 1] ?? '' }
  const count = Number(args[1] ?? 25) || 25
  for (const { frame, selfMs, share } of topFrames(args[0], count, options)) {
    process.stdout.write(`${(share * 100).toFixed(1).padStart(5)} %  ${String(selfMs).padStart(6)} ms  ${frame}\n`)
  }
}
