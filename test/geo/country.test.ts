// CountryDatabase over the shipped database and a user's file, and CDN country headers.
import { test } from 'tap'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import ipaddr from 'ipaddr.js'
import { CountryDatabase, countryFromHeader, DEFAULT_COUNTRY_DATABASE_MODULE } from '../../lib/geo/country.js'

test('the shipped database gives the checked countries, and nothing for private, loopback or non-IPs', async (t) => {
  const db = CountryDatabase.open()
  const expected: Array<[string, string]> = [
    ['8.8.8.8', 'US'],
    ['193.0.6.139', 'NL'],
    ['200.160.0.8', 'BR'],
    ['2001:4860:4860::8888', 'US'],
    ['::ffff:193.0.6.139', 'NL'], // what a dual-stack socket reports for an IPv4 client
    ['::ffff:808:808', 'US'], // the same mapping written in hex
    ['127.0.0.1', ''],
    ['::1', ''],
    ['10.1.2.3', ''],
    ['192.168.1.1', ''],
    ['172.16.5.4', ''],
    ['100.64.0.1', ''],
    ['169.254.1.1', ''],
    ['fe80::1', ''],
    ['fe80::1%eth0', ''],
    ['2001:db8::1', ''],
    ['', ''],
    ['not an ip', ''],
    ['8.8', ''], // a classful form ipaddr.js alone would take
    ['999.1.1.1', '']
  ]
  for (const [ip, country] of expected) t.equal(db.lookup(ip), country, ip === '' ? '(empty)' : ip)
  t.equal(db.lookup('8.8.8.8'), 'US', 'a cached answer is the same')
})

test('no special-purpose IPv4 range gets a country, whatever the database files under it', async (t) => {
  const db = CountryDatabase.open()
  const edges = ['0.0.0.0', '9.255.255.255', '10.0.0.0', '11.0.0.0', '100.63.255.255', '100.64.0.0', '100.127.255.255', '100.128.0.0',
    '126.255.255.255', '127.0.0.1', '169.254.0.1', '172.15.255.255', '172.16.0.0', '172.31.255.255', '172.32.0.0', '192.0.0.8', '192.0.2.1',
    '192.31.196.1', '192.52.193.1', '192.88.99.1', '192.168.0.1', '192.175.48.1', '198.17.255.255', '198.18.0.0', '198.19.255.255',
    '198.20.0.0', '198.51.100.1', '203.0.113.1', '223.255.255.255', '224.0.0.1', '239.255.255.255', '240.0.0.1', '255.255.255.255', '8.8.8.8']
  for (const ip of edges.filter((edge) => ipaddr.parse(edge).range() !== 'unicast')) t.equal(db.lookup(ip), '', ip)
  t.equal(db.lookup('8.8.8.8'), 'US', 'a public neighbour still has one')
})

test('a user path opens that file; a missing or unreadable file throws FST_ANALYTICS_INVALID_OPTION naming it', async (t) => {
  const shipped = createRequire(import.meta.url).resolve(DEFAULT_COUNTRY_DATABASE_MODULE)
  t.equal(CountryDatabase.open(shipped).lookup('193.0.6.139'), 'NL', 'a MaxMind-format file by path')

  const dir = mkdtempSync(join(tmpdir(), 'geo-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const missing = join(dir, 'GeoLite2-Country.mmdb')
  t.throws(() => CountryDatabase.open(missing), { code: 'FST_ANALYTICS_INVALID_OPTION', message: new RegExp(`geo\\.database: cannot read "${missing.replace(/[.\\]/g, '\\$&')}".*ENOENT`) })
  const garbage = join(dir, 'garbage.mmdb')
  writeFileSync(garbage, 'this is not a database')
  t.throws(() => CountryDatabase.open(garbage), { code: 'FST_ANALYTICS_INVALID_OPTION', message: /cannot read .*garbage\.mmdb" as a MaxMind-format/ })
  t.throws(() => CountryDatabase.open(dir), { code: 'FST_ANALYTICS_INVALID_OPTION', message: /EISDIR/ }, 'a directory')
})

test('a CDN header value: two letters upper-cased; XX, T1 and anything else is unknown', async (t) => {
  const cases: Array<[string | string[] | undefined, string]> = [
    ['US', 'US'],
    ['de', 'DE'],
    [' fr ', 'FR'],
    [['gb', 'us'], 'GB'],
    ['XX', ''],
    ['xx', ''],
    ['T1', ''],
    ['', ''],
    [undefined, ''],
    [[], ''],
    ['USA', ''],
    ['U', ''],
    ['Ü1', ''],
    ['ÜS', '']
  ]
  for (const [value, country] of cases) t.equal(countryFromHeader(value), country, JSON.stringify(value) ?? 'undefined')
})

test('both published builds find the shipped database (ESM in dist/lib, bundled; CommonJS in dist/cjs)', async (t) => {
  const { execFileSync } = await import('node:child_process')
  const root = new URL('../../', import.meta.url)
  // The bundled ESM build through its public entries: its chunks resolve the database from where they land.
  const esm = execFileSync(process.execPath, ['--input-type=module', '-e', [
    "import Fastify from 'fastify'; import analytics from 'fastify-analytics'; import { memoryCollector } from 'fastify-analytics/testing'",
    'const collector = memoryCollector(); const app = Fastify({ trustProxy: true })',
    "await app.register(analytics, { collectors: [collector] }); app.get('/', (request, reply) => reply.type('text/html').send('<p>hi'))",
    "await app.inject({ url: '/', headers: { 'x-forwarded-for': '193.0.6.139', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36' } })",
    'await app.close(); process.stdout.write(collector.events[0]?.country ?? \'(no event)\')'
  ].join('\n')], { cwd: root, encoding: 'utf8' })
  const cjs = execFileSync(process.execPath, ['-e',
    "process.stdout.write(require('./dist/cjs/lib/geo/country.js').CountryDatabase.open().lookup('200.160.0.8'))"], { cwd: root, encoding: 'utf8' })
  t.equal(esm, 'NL')
  t.equal(cjs, 'BR')
})

test('a GeoLite2- or DB-IP-shaped file of the user\'s: country.iso_code records; a non-country database is refused', async (t) => {
  const { writeMmdb } = await import('../helpers/mmdb.js')
  const dir = mkdtempSync(join(tmpdir(), 'geo-user-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const geolite = join(dir, 'GeoLite2-Country.mmdb')
  writeFileSync(geolite, writeMmdb('GeoLite2-Country', [
    ['81.2.69.0', 24, { country: { iso_code: 'GB', names: { en: 'United Kingdom' } } }],
    ['89.160.20.0', 28, { country: { iso_code: 'se' } }],
    ['203.0.113.0', 24, { country: { iso_code: 'JP' } }] // a documentation range: never looked up
  ]))
  const db = CountryDatabase.open(geolite)
  t.equal(db.lookup('81.2.69.142'), 'GB')
  t.equal(db.lookup('89.160.20.1'), 'SE', 'upper-cased')
  t.equal(db.lookup('89.160.20.17'), '', 'outside the /28')
  t.equal(db.lookup('8.8.8.8'), '', 'not in the file')
  t.equal(db.lookup('203.0.113.5'), '', 'a reserved range whatever the file says')
  t.equal(db.lookup('2001:4860:4860::8888'), '', 'an IPv6 address in an IPv4-only file')

  const dbip = join(dir, 'dbip-city-lite.mmdb')
  writeFileSync(dbip, writeMmdb('DBIP-City-Lite', [['81.2.69.0', 24, { city: { names: { en: 'London' } }, country: { iso_code: 'GB' } }]]))
  t.equal(CountryDatabase.open(dbip).lookup('81.2.69.1'), 'GB', 'a city database carries the country too')

  const asn = join(dir, 'GeoLite2-ASN.mmdb')
  writeFileSync(asn, writeMmdb('GeoLite2-ASN', [['81.2.69.0', 24, { autonomous_system_number: 20712 }]]))
  t.throws(() => CountryDatabase.open(asn), { code: 'FST_ANALYTICS_INVALID_OPTION', message: /"GeoLite2-ASN" database, not a country or city database/ })
})
