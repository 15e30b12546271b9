// STUB: the interface the visits layer codes against; the geo work replaces the bodies.

/** Looks a client IP up in a MaxMind-format country database, offline. */
export class CountryDatabase {
  /** Opens the database shipped in the package, or `path` (a MaxMind-format file: GeoLite2, DB-IP). Throws a clear error when unreadable. */
  static open (path?: string): CountryDatabase {
    void path
    return new CountryDatabase()
  }

  /** ISO 3166-1 alpha-2, upper case; '' when unknown (private, loopback, not in the database, not an IP). */
  lookup (ip: string): string {
    void ip
    return ''
  }
}

/** A CDN's country header value as a country: two letters upper-cased, `XX` and `T1` (unknown, Tor) → ''. */
export function countryFromHeader (value: string | string[] | undefined): string {
  void value
  return ''
}
