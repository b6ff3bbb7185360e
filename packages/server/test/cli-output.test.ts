import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { which } from '../../../scripts/services/local'

const cli = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli.ts')
const tsx = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const node = [process.execPath, '--conditions=@roomwire/source', '--import', tsx, cli]
const children: ChildProcess[] = []
const servers: Server[] = []

/** Run the CLI (or `command` around it) and collect what it prints. */
function run(argv: string[], env: Record<string, string> = {}) {
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: mkdtempSync(join(tmpdir(), 'roomwire-cli-')),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  const out = { stdout: '', stderr: '' }
  child.stdout!.on('data', (d: Buffer) => {
    out.stdout += d
  })
  child.stderr!.on('data', (d: Buffer) => {
    out.stderr += d
  })
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const printed = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(out.stdout)
        if (match) resolve(match)
      }
      child.stdout!.on('data', check)
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out.stdout}${out.stderr}`)))
      check()
    })
  return { child, out, exited, printed }
}

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))))
})

describe('roomwire-server output', () => {
  it('says which port is busy and how to choose another, in one line', async () => {
    const busy = createServer()
    servers.push(busy)
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    const port = (busy.address() as { port: number }).port
    const { out, exited } = run([...node, '--host', '127.0.0.1', '--port', String(port)])
    expect(await exited).toBe(1)
    expect(out.stderr.trimEnd().split('\n')).toEqual([
      `roomwire-server: port ${port} is already in use on 127.0.0.1 (another program listens there); choose another with --port <n>`,
    ])
    expect(out.stdout).toBe('')
  })

  it('prints the page to open first when it serves a directory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'roomwire-static-'))
    const { out, printed } = run([...node, '--host', '127.0.0.1', '--port', '0', '--static-dir', dir])
    const [, port] = await printed(/listening on ws:\/\/127\.0\.0\.1:(\d+)\/ws/)
    expect(out.stdout.split('\n')[0]).toBe(`Open http://127.0.0.1:${port}/ (serving ${dir})`)
  })

  it('logs JSON lines when its output is not a terminal', async () => {
    const { out, printed } = run([...node, '--host', '127.0.0.1', '--port', '0'])
    await printed(/"msg":"listening"/)
    const line = out.stdout.split('\n').find((l) => l.startsWith('{'))!
    expect(JSON.parse(line)).toMatchObject({ level: 30, name: 'roomwire', msg: 'listening' })
  })

  // util-linux's script(1) gives the CLI a terminal.
  it.runIf(which('script') !== undefined)('logs readable lines, not JSON, in a terminal', async () => {
    const command = [...node, '--host', '127.0.0.1', '--port', '0'].map((a) => `'${a}'`).join(' ')
    const { out, printed } = run(['script', '-qefc', command, '/dev/null'], { TERM: 'dumb' })
    const [, port] = await printed(/listening on ws:\/\/127\.0\.0\.1:(\d+)\/ws/)
    // A connection logs at info: a readable line with the time, the level and the fields.
    const client = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'roomwire.v1')
    await new Promise((resolve) => client.once('open', resolve))
    client.close()
    await printed(/connected/)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: pino-pretty's colours
    const plain = out.stdout.replace(/\x1b\[[0-9;]*m/g, '')
    expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: connected \{"conn":"c_[^"]+","url":"\/ws"\}\r?$/m)
    expect(plain).not.toContain('"level"')
  })
})
