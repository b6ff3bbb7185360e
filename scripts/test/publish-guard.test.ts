import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../..', import.meta.url))
const guard = join(root, 'scripts', 'publish-guard.mjs')

/** A package folder with these dependencies whose prepublishOnly is the guard. */
function packageDir(dependencies: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'roomwire-guard-'))
  const manifest = {
    name: '@roomwire-guard-test/pkg',
    version: '0.0.0',
    dependencies,
    scripts: { prepublishOnly: `node ${JSON.stringify(guard)}` },
  }
  writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest))
  writeFileSync(join(dir, 'index.js'), '')
  return dir
}

function runGuard(dir: string, client: string) {
  return spawnSync(process.execPath, [guard], {
    cwd: dir,
    env: { ...process.env, npm_execpath: client },
    encoding: 'utf8',
  })
}

describe('the publish guard', () => {
  it('makes npm publish fail for a package with workspace: or catalog: specifiers', () => {
    const dir = packageDir({ '@roomwire/protocol': 'workspace:^', zod: 'catalog:' })
    // Under pnpm, as this test runs: npm must still be refused.
    const result = spawnSync('npm', ['publish', '--dry-run'], {
      cwd: dir,
      env: { ...process.env, npm_config_user_agent: 'pnpm/10.34.9 npm/? node/v20.20.2 linux x64' },
      encoding: 'utf8',
    })
    expect(result.status).not.toBe(0)
    expect(result.stderr).toContain(
      '@roomwire-guard-test/pkg: refusing to publish with npm: @roomwire/protocol@workspace:^, zod@catalog:',
    )
  })

  it('lets pnpm publish such a package, since pnpm writes versions into the tarball', () => {
    const result = runGuard(
      packageDir({ '@roomwire/protocol': 'workspace:^' }),
      '/usr/lib/node_modules/pnpm/bin/pnpm.cjs',
    )
    expect(result.status).toBe(0)
  })

  it('lets npm publish a package whose dependencies are versions', () => {
    const result = runGuard(packageDir({ ws: '^8.21.1' }), '/usr/lib/node_modules/npm/bin/npm-cli.js')
    expect([result.status, result.stderr]).toEqual([0, ''])
  })
})

describe('every published package', () => {
  const published = readdirSync(join(root, 'packages')).filter(
    (name) => existsSync(join(root, 'packages', name, 'package.json')) && !manifest(name).private,
  )

  function manifest(name: string) {
    return JSON.parse(readFileSync(join(root, 'packages', name, 'package.json'), 'utf8'))
  }

  it.each(published)('%s runs the guard before it is published, and says where it comes from', (name) => {
    const pkg = manifest(name)
    expect(pkg.scripts.prepublishOnly).toBe('node ../../scripts/publish-guard.mjs')
    expect(pkg.publishConfig).toEqual({ access: 'public' })
    expect(pkg.license).toBe('MIT')
    expect(existsSync(join(root, 'packages', name, 'LICENSE'))).toBe(true)
    expect(pkg.repository).toEqual({
      type: 'git',
      url: 'git+https://github.com/roomwire/roomwire.git',
      directory: `packages/${name}`,
    })
    expect(pkg.homepage).toBe(`https://github.com/roomwire/roomwire/tree/main/packages/${name}#readme`)
    expect(pkg.bugs).toEqual({ url: 'https://github.com/roomwire/roomwire/issues' })
  })
})
