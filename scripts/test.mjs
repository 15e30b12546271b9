// `npm test`: every stage runs even when an earlier one fails, so one red stage never hides the
// others (an `a && b && c` chain stops at the first failure and the later suites never report).
// Each stage is an npm script, so it can also be run alone. A summary line per stage at the end;
// the exit code is non-zero when any stage failed.
//
//   node scripts/test.mjs                 every stage
//   node scripts/test.mjs tap test:types  only the named stages, in the order given
import { spawn } from 'node:child_process'
import { constants } from 'node:os'

/** The stages of `npm test`, in order: name → the npm script that runs it. */
const STAGES = [
  ['lint', 'lint'],
  ['typecheck', 'typecheck'],
  ['tap', 'test:tap'],
  ['worker', 'test:worker'],
  ['tsd', 'test:types']
]

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

function selectStages (names) {
  if (names.length === 0) return STAGES
  return names.map((name) => {
    const stage = STAGES.find(([stageName, script]) => stageName === name || script === name)
    if (stage === undefined) {
      console.error(`scripts/test.mjs: unknown stage ${name} (stages: ${STAGES.map(([n]) => n).join(', ')})`)
      process.exit(2)
    }
    return stage
  })
}

/** Runs one npm script with the terminal attached; resolves to its exit code (signals count as failures). */
function runScript (script) {
  return new Promise((resolve) => {
    const child = spawn(npm, ['run', '--silent', script], { stdio: 'inherit' })
    child.on('error', (err) => {
      console.error(`scripts/test.mjs: could not start npm run ${script}: ${err.message}`)
      resolve(1)
    })
    child.on('exit', (code, signal) => resolve(signal === null ? code : 128 + (constants.signals[signal] ?? 0)))
  })
}

function formatSeconds (ms) {
  return `${(ms / 1000).toFixed(1)} s`
}

// Ctrl-C reaches the running stage too (same process group); stop starting new stages after it.
let interrupted = false
process.on('SIGINT', () => { interrupted = true })

const results = []
const started = performance.now()
for (const [name, script] of selectStages(process.argv.slice(2))) {
  if (interrupted) {
    results.push({ name, script, status: 'not run (interrupted)', ok: false, ms: 0 })
    continue
  }
  console.log(`\n── npm test: ${name} (npm run ${script}) ──`)
  const stageStart = performance.now()
  const code = await runScript(script)
  const ok = code === 0
  results.push({ name, script, status: ok ? 'passed' : `FAILED (exit ${code})`, ok, ms: performance.now() - stageStart })
}

const nameWidth = Math.max(...results.map((r) => r.name.length))
console.log('\n── npm test: summary ──')
for (const r of results) {
  console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name.padEnd(nameWidth)}  ${r.status.padEnd(20)} ${formatSeconds(r.ms).padStart(8)}  (npm run ${r.script})`)
}
const failed = results.filter((r) => !r.ok)
console.log(`${failed.length === 0 ? 'all stages passed' : `${failed.length} of ${results.length} stages failed`} in ${formatSeconds(performance.now() - started)}`)
process.exitCode = failed.length === 0 ? 0 : 1
