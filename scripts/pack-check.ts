/**
 * `pnpm check:pack` (issue #15): what a user gets from npm, checked before a release. Packs every published
 * package with pnpm, looks into each tarball, installs the tarballs with npm into a fresh project outside
 * the workspace (third-party dependencies from the registry), and there checks ESM and CommonJS loading,
 * TypeScript with `moduleResolution` `bundler` and `nodenext`, the CLI's bin, a client talking to a
 * server and a test written with the testing kit; then the lowest supported zod and React, a zod 3 app,
 * and a Next.js app. Needs `pnpm build` first. Every command has a time limit; `--keep` leaves the
 * projects behind, `--only <text>` runs the checks whose name holds the text.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NEXT_FIXTURES, NEXT_VERSION } from './next-fixtures'
import { PACK_FIXTURES, REACT_SSR_FIXTURE, ZOD3_FIXTURES } from './pack-fixtures'

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

/** `--only <text>`: run only the checks whose name holds the text (packing always runs). */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined

function check(what: string, body: () => void): void {
  if (only !== undefined && !what.includes(only) && !what.startsWith('pnpm pack')) return
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

/**
 * A fresh project in `dir` with `files`, its `dependencies` and the tarballs installed by npm. The packages
 * must find each other in the tarballs, never in the registry: one copy each, from a file.
 */
function installProject(
  dir: string,
  dependencies: Record<string, string>,
  files: Record<string, string>,
  only: string[] = [...packed.keys()],
): void {
  mkdirSync(dir)
  for (const name of only) dependencies[name] = `file:${packed.get(name)}`
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'roomwire-pack-check', private: true, type: 'module', dependencies }, null, 2),
  )
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true })
    writeFileSync(join(dir, file), text)
  }
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], dir, 300_000)
  const lock = readJson(join(dir, 'package-lock.json')) as unknown as {
    packages: Record<string, { resolved?: string }>
  }
  for (const name of only) {
    const copies = Object.entries(lock.packages).filter(([path]) => path.endsWith(`node_modules/${name}`))
    const fromFiles = copies.filter(([, entry]) => entry.resolved?.startsWith('file:') === true)
    if (copies.length !== 1 || fromFiles.length !== 1) {
      throw new Error(`${name}: ${copies.map(([path, e]) => `${path} from ${e.resolved}`).join(', ')}`)
    }
  }
}

const tsDependencies = () => ({
  typescript: rootDevVersion('typescript'),
  '@types/node': rootDevVersion('@types/node'),
})

check('npm install the tarballs into a fresh project', () => {
  installProject(
    app,
    {
      zod: catalog('zod'),
      react: catalog('react'),
      '@types/react': catalog('@types/react'),
      ...tsDependencies(),
    },
    PACK_FIXTURES,
  )
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

check('a test of the testing kit from the tarballs: a publish, a cut, a reconnect', () => {
  const out = run('node', ['kit.mjs'], app, 30_000)
  if (!out.includes('kit ok')) throw new Error(out)
})

// The lowest versions the packages declare: zod ^4.0.16 (the protocol's types need 4.0.16 with skipLibCheck
// false) and React ^18.0.0. Types in every resolution mode, a server render of the hooks, a round trip.
const lowest = join(work, 'lowest')
check('lowest supported zod (4.0.16) and React (18.0.0): install, types, server render, round trip', () => {
  installProject(
    lowest,
    {
      zod: '4.0.16',
      react: '18.0.0',
      'react-dom': '18.0.0',
      // @types/react 18.0.0 needs a @types/scheduler that no longer exists; the 18 line's last types.
      '@types/react': '18.3.32',
      ...tsDependencies(),
    },
    { ...PACK_FIXTURES, 'react-ssr.mjs': REACT_SSR_FIXTURE },
  )
  const tsc = join(lowest, 'node_modules', '.bin', 'tsc')
  run(tsc, ['-p', 'tsconfig.bundler.json'], lowest, 300_000)
  run(tsc, ['-p', 'tsconfig.nodenext.json'], lowest, 300_000)
  run('node', ['react-ssr.mjs'], lowest, 30_000)
  if (!run('node', ['round-trip.mjs'], lowest, 30_000).includes('round trip ok'))
    throw new Error('no round trip')
})

// A zod 3 app uses its zod 3 schemas through Standard Schema; the protocol brings its own zod 4.
const zod3 = join(work, 'zod3')
check('a zod 3.24 app installs, type-checks and validates with its zod 3 schemas', () => {
  installProject(zod3, { zod: '3.24.0', ...tsDependencies() }, ZOD3_FIXTURES, [
    '@roomwire/protocol',
    '@roomwire/client',
    '@roomwire/server',
  ])
  run(join(zod3, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], zod3)
  if (!run('node', ['zod3.mjs'], zod3, 30_000).includes('zod 3 ok')) throw new Error('zod3.mjs said nothing')
})

// Next.js app router: a server component layout, the protocol in a 'use client' wrapper (the README's).
const nextApp = join(work, 'next')
check(
  `Next.js ${NEXT_VERSION} app router: next build, a page rendered on the server and hydrated in Chromium`,
  () => {
    const clientManifest = readJson(join(root, 'packages', 'client', 'package.json')) as unknown as {
      devDependencies: Record<string, string>
    }
    installProject(
      nextApp,
      {
        next: NEXT_VERSION,
        react: catalog('react'),
        'react-dom': catalog('react-dom'),
        zod: catalog('zod'),
        '@types/react': catalog('@types/react'),
        '@types/react-dom': catalog('@types/react-dom'),
        'playwright-core': clientManifest.devDependencies['playwright-core']!,
        ...tsDependencies(),
      },
      NEXT_FIXTURES,
    )
    const env = { ...process.env, NEXT_TELEMETRY_DISABLED: '1' }
    const next = join('node_modules', 'next', 'dist', 'bin', 'next')
    const build = spawnSync('node', [next, 'build'], {
      cwd: nextApp,
      encoding: 'utf8',
      env,
      timeout: 240_000,
    })
    if (build.status !== 0) throw new Error(`next build failed:\n${build.stdout}${build.stderr}`)
    const e2e = spawnSync('node', ['e2e.mjs'], { cwd: nextApp, encoding: 'utf8', env, timeout: 90_000 })
    if (e2e.status !== 0 || !e2e.stdout.includes('next ok')) throw new Error(`${e2e.stdout}${e2e.stderr}`)
  },
)

if (!process.argv.includes('--keep')) rmSync(work, { recursive: true, force: true })
if (failures.length > 0) {
  process.stdout.write(`pack check: ${failures.length} failed: ${failures.join('; ')}\n`)
  process.exit(1)
}
process.stdout.write('pack check: every check passed\n')
