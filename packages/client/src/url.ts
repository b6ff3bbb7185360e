const SCHEMES = new Set(['ws:', 'wss:', 'http:', 'https:'])

/** The page's URL in a browser: relative URLs resolve against it. */
function pageUrl(): string | undefined {
  return (globalThis as { location?: { href?: string } }).location?.href
}

/**
 * Refuse, at `createClient`, a URL that no attempt could open: retried, it would only ever show as
 * `lastError`. `localhost:9101` parses as the scheme `localhost:`, so the scheme is checked too.
 */
export function checkUrl(url: string): void {
  let parsed: URL
  try {
    parsed = new URL(url, pageUrl())
  } catch {
    throw new TypeError(
      `url "${url}" is not a URL: write it whole, as ws://host:port/path or wss://host/path`,
    )
  }
  if (!SCHEMES.has(parsed.protocol) || parsed.host === '') {
    throw new TypeError(
      `url "${url}" has no ws:// or wss:// scheme: write ws://host:port/path or wss://host/path`,
    )
  }
}

/** Resolve a relative URL against the page (browsers), and use the ws scheme for http(s) URLs. */
export function socketUrl(url: string, token: string | null | undefined): string {
  const parsed = new URL(url, pageUrl())
  if (parsed.protocol === 'http:') parsed.protocol = 'ws:'
  else if (parsed.protocol === 'https:') parsed.protocol = 'wss:'
  if (token) parsed.searchParams.set('token', token)
  return parsed.toString()
}
