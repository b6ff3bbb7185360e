import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'

/** The machine and the versions a report was measured with. */
export interface Environment {
  cpu: string
  cores: number
  memoryGiB: number
  os: string
  node: string
  commit: string
  packages: Array<[string, string]>
}

const require = createRequire(import.meta.url)

function versionOf(name: string): string {
  try {
    const path = require.resolve(`${name}/package.json`)
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version
  } catch {
    return 'not installed'
  }
}

/** Describe this machine and the packages under test. */
export function describeEnvironment(): Environment {
  let commit = 'unknown'
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
  } catch {}
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    commit,
    packages: [
      '@roomwire/server',
      '@roomwire/client',
      '@roomwire/protocol',
      'ws',
      '@trufflesuite/uws-js-unofficial',
      'socket.io',
      'socket.io-client',
    ].map((name) => [name, versionOf(name)]),
  }
}
