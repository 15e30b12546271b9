// The vendored referrer data: where it comes from is recorded in the data and in the docs, and the
// update script regenerates it offline from checkouts of Matomo's two repositories.
import { test } from 'tap'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { REFERRER_DATA_SOURCE } from '../../lib/attribution/data/referrers.js'
import { SPAM_DATA_SOURCE } from '../../lib/attribution/data/spam.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

test('the docs name the commits the vendored data was generated from', async (t) => {
  const docs = readFileSync(join(ROOT, 'docs/attribution.md'), 'utf8')
  t.match(REFERRER_DATA_SOURCE.commit, /^[0-9a-f]{40}$/)
  t.match(SPAM_DATA_SOURCE.commit, /^[0-9a-f]{40}$/)
  t.ok(docs.includes(REFERRER_DATA_SOURCE.commit.slice(0, 12)), 'searchengine-and-social-list commit')
  t.ok(docs.includes(SPAM_DATA_SOURCE.commit.slice(0, 12)), 'referrer-spam-list commit')
})

function gitRepository (dir: string, files: Record<string, string>): string {
  mkdirSync(dir, { recursive: true })
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  const git = (...args: string[]): string => execFileSync('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.com', '-C', dir, ...args], { encoding: 'utf8' })
  git('init', '-q')
  git('add', '.')
  git('commit', '-qm', 'fixture')
  return git('rev-parse', 'HEAD').trim()
}

test('the update script writes the data modules and the docs block from local checkouts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'referrer-data-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const listsCommit = gitRepository(join(dir, 'lists'), {
    'SearchEngines.yml': [
      'Findy:', '  -', '    urls:', '      - findy.example', "      - 'findy.{}'", '      - findy.example/path', '    params:', '      - q',
      "      - '/s\\/([^\\/]+)/'", '    hiddenkeyword:', "      - '/^$/'",
      'Portal:', '  -', '    urls:', '      - portal.example', '    params:', '      - query', ''
    ].join('\n'),
    'Socials.yml': ['Chatty:', '  - chatty.example', '  - m.chatty.example', ''].join('\n'),
    'AIAssistants.yml': ['Oracle AI:', '  - oracle-ai.example', ''].join('\n')
  })
  const spamCommit = gitRepository(join(dir, 'spam'), { 'spammers.txt': 'b-spam.example\na-spam.example\n\nb-spam.example\n' })
  const out = join(dir, 'out')
  mkdirSync(join(out, 'lib/attribution/data'), { recursive: true })
  mkdirSync(join(out, 'docs'))
  writeFileSync(join(out, 'docs/attribution.md'), '# x\n\n<!-- referrer-data:start -->\nold\n<!-- referrer-data:end -->\n\nafter\n')
  execFileSync(process.execPath, [join(ROOT, 'scripts/update-referrer-data.mjs'), join(dir, 'lists'), join(dir, 'spam'), out], { encoding: 'utf8' })

  const referrers = readFileSync(join(out, 'lib/attribution/data/referrers.ts'), 'utf8')
  t.ok(referrers.includes(listsCommit), 'the commit is recorded')
  t.ok(referrers.includes("['Findy', 'findy.example findy.{}', '*']"), 'a path pattern is dropped; an accepted empty path makes any referrer count')
  t.ok(referrers.includes("['Portal', 'portal.example', 'query']"), 'a keyword parameter is kept, regex ones are not')
  t.ok(referrers.includes("['Chatty', 'chatty.example m.chatty.example']"))
  t.ok(referrers.includes("['Oracle AI', 'oracle-ai.example']"))
  const spam = readFileSync(join(out, 'lib/attribution/data/spam.ts'), 'utf8')
  t.ok(spam.includes(spamCommit))
  t.ok(spam.includes('`\na-spam.example\nb-spam.example\n`'), 'sorted, deduplicated, blank lines dropped')
  const docs = readFileSync(join(out, 'docs/attribution.md'), 'utf8')
  t.ok(docs.includes(listsCommit.slice(0, 12)) && docs.includes(spamCommit.slice(0, 12)), 'the docs block names both commits')
  t.ok(docs.includes('| 2 domains |') && docs.endsWith('\n\nafter\n') && !docs.includes('old'), 'only the block is replaced')
})
