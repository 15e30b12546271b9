import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { ROOT } from './markdown.js'
import { join } from 'node:path'

// What the package says about itself in several places (package.json, the upgrading page, the
// option docstrings) agrees with what it ships (issue 26 item 6).
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string, description: string }
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')

/** How prose names each collector module (a new one fails these tests until it has a name here). */
const DISPLAY_NAMES: Record<string, string> = {
  stdout: 'stdout',
  ga4: 'GA4',
  plausible: 'Plausible',
  mixpanel: 'Mixpanel',
  posthog: 'PostHog',
  segment: 'Segment',
  umami: 'Umami',
  webhook: 'webhook',
  postgres: 'PostgreSQL',
  clickhouse: 'ClickHouse',
  duckdb: 'DuckDB',
  testing: 'memory'
}

/** Modules under lib/ (collectors and testing) that export a `…Collector(` factory. */
function collectorModules (): Array<{ name: string, source: string }> {
  const dir = join(ROOT, 'lib/collectors')
  const files = readdirSync(dir).filter((file) => file.endsWith('.ts')).map((file) => ({ name: file.slice(0, -3), source: read(`lib/collectors/${file}`) }))
  return [...files, { name: 'testing', source: read('lib/testing.ts') }].filter(({ source }) => /export function \w+Collector \(/.test(source))
}

t.test('the package description names every collector the package ships', async (t) => {
  const modules = collectorModules()
  t.ok(modules.length >= 7, 'the collectors are found')
  for (const { name } of modules) {
    t.ok(DISPLAY_NAMES[name], `${name} has a display name in this test`)
    t.match(pkg.description, DISPLAY_NAMES[name] ?? name, `the description names ${name}`)
  }
})

t.test('the delivery option\'s docstring names every collector that can run in the worker', async (t) => {
  const options = read('lib/options.ts')
  const doc = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*delivery\?:/.exec(options)?.[1] ?? ''
  t.not(doc, '', 'the delivery option has a docstring')
  const portable = collectorModules().filter(({ source }) => source.includes('portableCollector('))
  t.ok(portable.length >= 6, 'the worker-capable collectors are found')
  for (const { name } of portable) t.match(doc, DISPLAY_NAMES[name] ?? name, `names ${name}`)
})

t.test('the version and docs/upgrading.md agree: the page upgrades to the version published, from the one before', async (t) => {
  const [major, minor] = pkg.version.split('.').map(Number)
  t.ok(major > 0 || minor > 1, `${pkg.version}: the changes listed in docs/upgrading.md change defaults, so it is past 0.1`)
  const page = read('docs/upgrading.md')
  const previous = major > 0 && minor === 0 ? `${major - 1}\\.\\d+` : `${major}\\.${minor - 1}`
  t.match(page, new RegExp(`^## From ${previous} to ${major}\\.${minor}$`, 'm'), 'the upgrading page has a section for this version')
  t.match(read('README.md'), new RegExp(`\\[Upgrading\\]\\(docs/upgrading\\.md\\) from 0\\.1 to ${major}\\.${minor}\\b`), 'the README links it with both ends')
})

t.test('the README never suggests a module helper works without a request, and names app.analytics.track for that case (issue 26)', async (t) => {
  const readme = read('README.md')
  const quickStart = readme.split('\n## Quick start\n')[1]?.split('\n## ')[0] ?? ''
  t.notMatch(quickStart, /no request in hand/, 'the quick start comment no longer says so')
  t.match(quickStart, /Outside any request[^\n]*app\.analytics\.track/, 'the quick start shows the way for code outside requests')
  const helpers = readme.split('\n## Request API and helpers\n')[1]?.split('\n## ')[0] ?? ''
  t.match(helpers, /outside requests[^.]*`app\.analytics\.track\(event\)`/, 'the helpers paragraph names it too')
})

t.test('docs/metrics.md names every instrument fastify-analytics/otel creates, in its table', async (t) => {
  const { ANALYTICS_METRICS } = await import('../../lib/otel.js')
  const rows = new Set([...read('docs/metrics.md').matchAll(/^\| `([a-z_.]+)` \|/gm)].map(([, name]) => name))
  t.same([...rows].sort(), Object.values(ANALYTICS_METRICS).sort())
})
