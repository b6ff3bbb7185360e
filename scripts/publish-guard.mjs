#!/usr/bin/env node
// prepublishOnly of every published package (issue #15): refuse to publish a manifest whose dependencies
// use pnpm's workspace: or catalog: specifiers unless pnpm publishes it. pnpm (`pnpm publish`, which
// `pnpm release` runs through changesets) writes real versions into the tarball; `npm publish` would ship
// them as they are, and no one could install the package. Plain JavaScript: it runs with node alone.
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'

const FIELDS = ['dependencies', 'peerDependencies', 'optionalDependencies', 'devDependencies']

const dir = process.cwd()
const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
const local = FIELDS.flatMap((field) =>
  Object.entries(manifest[field] ?? {})
    .filter(([, spec]) => typeof spec === 'string' && /^(workspace|catalog):/.test(spec))
    .map(([name, spec]) => `${name}@${spec}`),
)
// The client running this script sets npm_execpath to itself (the user agent variable is inherited, so
// `npm publish` inside a pnpm script would pass as pnpm).
const execpath = basename(process.env.npm_execpath ?? '')
const client = ['pnpm', 'yarn', 'npm'].find((name) => execpath.startsWith(name)) ?? 'an unknown client'
if (local.length > 0 && client !== 'pnpm') {
  process.stderr.write(
    `${manifest.name}: refusing to publish with ${client}: ${local.join(', ')} would reach the registry as written. Publish with pnpm (pnpm release), which replaces them with versions.\n`,
  )
  process.exit(1)
}
