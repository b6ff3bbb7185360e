import { createRequire } from 'node:module'
import { dirname } from 'node:path'

const PACKAGE = '@trufflesuite/uws-js-unofficial'

/** The part of uWebSockets.js's native module the bench server uses (its typings ship in the package). */
export type UwsModule = typeof import('@trufflesuite/uws-js-unofficial')

/** The native addon, or why it cannot be had here. */
export type UwsAddon = { ok: true; uws: UwsModule; file: string } | { ok: false; reason: string }

let cached: UwsAddon | undefined

/**
 * Load uWebSockets.js's native addon for this platform and Node ABI directly. The package's own entry
 * point falls back to a pure-JS implementation on top of `ws` when the addon does not load, which would
 * measure `ws` under another name: the harness never takes that path, it skips uWS instead.
 */
export function loadUws(): UwsAddon {
  if (cached) return cached
  const require = createRequire(import.meta.url)
  let dir: string
  try {
    dir = dirname(require.resolve(`${PACKAGE}/package.json`))
  } catch {
    cached = { ok: false, reason: `${PACKAGE} is not installed` }
    return cached
  }
  const file = `${dir}/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`
  try {
    const uws = require(file) as UwsModule
    if (typeof uws.App !== 'function') throw new Error('the addon has no App()')
    cached = { ok: true, uws, file }
  } catch (error) {
    const why = error instanceof Error ? error.message.split('\n')[0] : String(error)
    cached = {
      ok: false,
      reason: `the native addon for ${process.platform}-${process.arch} ABI ${process.versions.modules} does not load (${why})`,
    }
  }
  return cached
}
