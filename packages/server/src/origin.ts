/**
 * Whether a request's `Origin` may connect: exact match against the allow-list (no wildcard or substring
 * matching, CWE-1385), no allow-list allows every origin, and a request without `Origin` (not a browser) is
 * allowed.
 */
export function isOriginAllowed(
  origin: string | undefined,
  allowed: ReadonlySet<string> | undefined,
): boolean {
  if (allowed === undefined || origin === undefined) return true
  return allowed.has(origin)
}
