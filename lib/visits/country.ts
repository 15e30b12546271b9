import { CountryDatabase, countryFromHeader } from '../geo/country.js'

/** Plugin option `geo`, normalised. */
export interface GeoSettings {
  /** A CDN's country header (lower case), read only when named: otherwise any client could forge it. */
  header: string | undefined
  /** A MaxMind-format file of the user's; undefined: the database shipped in the package. */
  database: string | undefined
}

/**
 * The country of a request: from the named CDN header; when it is missing or says unknown, from the
 * client IP, in the database when one is read (always without a header, only with `database` given beside one).
 */
export class CountryResolver {
  readonly #database: CountryDatabase | undefined

  /**
   * Opens the database now (registration): an unreadable `database` throws FST_ANALYTICS_INVALID_OPTION.
   * With a header named, a database is read only when `database` names one too.
   */
  constructor (settings: GeoSettings) {
    this.#database = settings.header !== undefined && settings.database === undefined ? undefined : CountryDatabase.open(settings.database)
  }

  /** `headerValue`: the configured header's value, read by the capture ('' when not sent or not configured). */
  country (headerValue: string, ip: string): string {
    if (headerValue !== '') {
      const country = countryFromHeader(headerValue)
      if (country !== '') return country
    }
    // The database remembers answers per IP: a returning visitor costs a Map read.
    return this.#database === undefined ? '' : this.#database.lookup(ip)
  }
}
