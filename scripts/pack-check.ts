/**
 * `pnpm check:pack` (issue #15): what a user gets from npm, checked before a release. Packs every published
 * package with pnpm, looks into each tarball, installs the tarballs with npm into a fresh project outside
 * the workspace (third-party dependencies from the registry), and there checks ESM and CommonJS loading,
 * TypeScript with `moduleResolution` `bundler` and `nodenext`, the CLI's bin, and a client talking to a
 * server. Needs `pnpm build` first. Every command has a time limit; `--keep` leaves the project behind.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PACK_FIXTURES } from './pack-fixtures'

const root = fileURLToPath(new URL('..', import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'roomwire-pack-'))
const tarballs = join(work, 'tarballs')
const app = join(work, 'app')
const failures: string[] = []

function run(command: string, args: string[], cwd: string, timeoutMs = 120_000): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: timeoutMs })
  if (result.status !== 0) {
    const why = result.error?.message ?? `exit ${result.status ?? result.signal}`
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}): ${why}\n${result.stdout}${result.stderr}`)
  }
  return result.stdout
}

function check(what: string, body: () => void): void {
  const started = Date.now()
  try {
    body()
    process.stdout.write(`  ok  ${what} (${((Date.now() - started) / 1000).toFixed(1)} s)\n`)
  } catch (err) {
    failures.push(what)
    process.stdout.write(`  FAIL ${what}\n${(err as Error).message.replace(/^/gm, '       ')}\n`)
  }
}

/** The published packages: every packages/* that is not private. */
const published = readdirSync(join(root, 'packages'))
  .map((dir) => ({
    dir: join(root, 'packages', dir),
    manifest: readJson(join(root, 'packages', dir, 'package.json')),
  }))
  .filter(({ manifest }) => manifest.private !== true)

function readJson(
  path: string,
): Record<string, never> & { name: string; version: string; private?: boolean } {
  return JSON.parse(readFileSync(path, 'utf8'))
}

/** A version pinned in pnpm-workspace.yaml's catalog (the one the workspace tests with). */
function catalog(name: string): string {
  const yaml = readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8')
  const line = yaml.split('\n').find((l) =>
    l
      .trim()
      .replace(/^"|"(?=:)/g, '')
      .startsWith(`${name}:`),
  )
  const version = line?.split(':').pop()?.trim()
  if (version === undefined) throw new Error(`no ${name} in the catalog`)
  return version
}

/** A command the fresh project installed. */
function bin(name: string): string {
  return join(app, 'node_modules', '.bin', name)
}

function rootDevVersion(name: string): string {
  return (readJson(join(root, 'package.json')) as unknown as { devDependencies: Record<string, string> })
    .devDependencies[name]!
}

mkdirSync(tarballs)
process.stdout.write(`pack check in ${work}\n`)

const packed = new Map<string, string>()
check('pnpm pack every published package', () => {
  for (const { dir, manifest } of published) {
    if (!existsSync(join(dir, 'dist'))) throw new Error(`${manifest.name} has no dist/: run pnpm build first`)
    const out = run('pnpm', ['pack', '--pack-destination', tarballs], dir)
    const file = out.trim().split('\n').pop()!.trim()
    packed.set(manifest.name, file.startsWith('/') ? file : join(tarballs, file))
  }
})

for (const [name, tarball] of packed) {
  check(`${name}: LICENSE, README, no source maps or sources, README links that work on npm`, () => {
    const files = run('tar', ['-tzf', tarball], work)
      .split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''))
    for (const needed of ['LICENSE', 'README.md', 'package.json']) {
      if (!files.includes(needed)) throw new Error(`${needed} is missing`)
    }
    const unwanted = files.filter((f) => f.endsWith('.map') || f.startsWith('src/'))
    if (unwanted.length > 0) throw new Error(`ships ${unwanted.join(', ')}`)
    const readme = run('tar', ['-xzOf', tarball, 'package/README.md'], work)
    const broken = [...readme.matchAll(/\]\(([^)\s]+)/g)]
      .map((m) => m[1]!)
      .filter(
        (link) =>
          !/^(https?:|mailto:|#)/.test(link) && !files.includes(link.replace(/^\.\//, '').split('#')[0]!),
      )
    if (broken.length > 0) throw new Error(`README links that break on npm: ${broken.join(', ')}`)
    const manifest = run('tar', ['-xzOf', tarball, 'package/package.json'], work)
    const local = manifest.match(/"(workspace|catalog):[^"]*"/g)
    if (local !== null) throw new Error(`the packed manifest still has ${local.join(', ')}`)
  })
}

check('npm install the tarballs into a fresh project', () => {
  mkdirSync(app)
  const dependencies: Record<string, string> = {
    zod: catalog('zod'),
    react: catalog('react'),
    typescript: rootDevVersion('typescript'),
    '@types/node': rootDevVersion('@types/node'),
    '@types/react': catalog('@types/react'),
  }
  for (const [name, tarball] of packed) dependencies[name] = `file:${tarball}`
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'roomwire-pack-check', private: true, type: 'module', dependencies }, null, 2),
  )
  for (const [file, text] of Object.entries(PACK_FIXTURES)) writeFileSync(join(app, file), text)
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], app, 300_000)
  // The packages must find each other in the tarballs, never in the registry: one copy each, from a file.
  const lock = readJson(join(app, 'package-lock.json')) as unknown as {
    packages: Record<string, { resolved?: string }>
  }
  for (const name of packed.keys()) {
    const copies = Object.entries(lock.packages).filter(([path]) => path.endsWith(`node_modules/${name}`))
    const fromFiles = copies.filter(([, entry]) => entry.resolved?.startsWith('file:') === true)
    if (copies.length !== 1 || fromFiles.length !== 1) {
      throw new Error(`${name}: ${copies.map(([path, e]) => `${path} from ${e.resolved}`).join(', ')}`)
    }
  }
})

check('ESM: every entry point imports', () => void run('node', ['esm.mjs'], app, 30_000))
check('CommonJS: every entry point requires', () => void run('node', ['cjs.cjs'], app, 30_000))
check(
  'TypeScript, moduleResolution bundler',
  () => void run(bin('tsc'), ['-p', 'tsconfig.bundler.json'], app),
)
check('TypeScript, moduleResolution nodenext (ESM and CJS files)', () => {
  run(bin('tsc'), ['-p', 'tsconfig.nodenext.json'], app)
})
check('the roomwire-server bin prints its version', () => {
  const version = run(bin('roomwire-server'), ['--version'], app, 30_000).trim()
  const expected = published.find((p) => p.manifest.name === '@roomwire/server')!.manifest.version
  if (version !== expected) throw new Error(`printed ${version}, expected ${expected}`)
})
check('a client from the tarballs talks to a server from the tarballs', () => {
  const out = run('node', ['round-trip.mjs'], app, 30_000)
  if (!out.includes('round trip ok')) throw new Error(out)
})

if (!process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true })
if (failures.length > 0) {
  process.stdout.write(`pack check: ${failures.length} failed: ${failures.join('; ')}\n`)
  process.exit(1)
}
process.stdout.write('pack check: every check passed\n')
