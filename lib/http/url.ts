/**
 * How much of a URL an option may hold beyond `scheme://host[:port]`:
 * - `origin`: nothing (the engine's origin, GA4's `endpoint`);
 * - `base`: a path prefix (Plausible's `baseUrl` on a self-hosted instance);
 * - `url`: a path and a query (the webhook's `url`).
 */
export type UrlShape = 'origin' | 'base' | 'url'

const EXAMPLES: Record<UrlShape, string> = {
  origin: 'https://host[:port]',
  base: 'https://host[:port][/prefix]',
  url: 'https://host[:port]/path'
}

/**
 * The one check of an http(s) URL given as an option. `invalid` makes the error (it names the
 * collector); messages name the option and never quote the value, which may hold a token.
 */
export function parseHttpUrl (value: unknown, option: string, shape: UrlShape, invalid: (message: string) => Error): URL {
  const example = EXAMPLES[shape]
  if (typeof value !== 'string') throw invalid(`${option} must be a string like "${example}"`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw invalid(`${option} is not an absolute URL like "${example}"`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw invalid(`${option} must use http or https (got "${url.protocol.slice(0, 20)}")`)
  }
  // Credentials would be logged with the URL: they belong in headers the collector builds.
  if (url.username !== '' || url.password !== '') throw invalid(`${option} must not contain credentials: pass them as headers`)
  if (shape === 'origin' && (url.pathname !== '/' || url.search !== '' || url.hash !== '')) {
    throw invalid(`${option} must be scheme://host[:port] with no path, query or fragment`)
  }
  if (shape === 'base' && (url.search !== '' || url.hash !== '')) throw invalid(`${option} must not have a query or fragment`)
  // A fragment is never sent: a URL with one is a paste error.
  if (url.hash !== '') throw invalid(`${option} must not have a fragment (it is never sent)`)
  return url
}
