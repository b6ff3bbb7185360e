import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isExecutable, which } from './local'

/** Debian's apt-get, on PATH or where Debian puts it, or undefined on other systems. */
export function aptGet(): string | undefined {
  return which('apt-get') ?? (isExecutable('/usr/bin/apt-get') ? '/usr/bin/apt-get' : undefined)
}

/** Whether this process may install Debian packages itself: root, with apt-get. */
export function canAptInstall(): boolean {
  return process.getuid?.() === 0 && aptGet() !== undefined
}

/** `apt-get update`, then install `packages`; their output goes to a log, and its error line into a failure. */
export function aptInstall(packages: string[]): void {
  const log = join(mkdtempSync(join(tmpdir(), 'roomwire-apt-')), 'apt.log')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  for (const args of [['update'], ['install', '-y', ...packages]]) {
    const result = spawnSync('/bin/sh', ['-c', `"$0" -q "$@" >>"${log}" 2>&1`, aptGet()!, ...args], { env })
    if (result.status !== 0) {
      const lines = readFileSync(log, 'utf8').trimEnd().split('\n')
      const reason = lines.filter((l) => l.startsWith('E: ')).pop() ?? lines.pop() ?? ''
      throw new Error(`apt-get ${args[0]} ${args.slice(2).join(' ')} failed: ${reason} (log ${log})`)
    }
  }
}
