import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { TestClient } from './helpers'
import { REDIS_URL } from './redis/redis-helpers'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(packageDir, 'src', 'cli.ts')
// Resolve tsx from this package so the child can run from any working directory.
const tsx = new URL('../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const children: ChildProcess[] = []

function run(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const child = spawn(process.execPath, ['--conditions=@roomwire/source', '--import', tsx, cli, ...args], {
    cwd: options.cwd ?? mkdtempSync(join(tmpdir(), 'roomwire-cli-')),
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString()
  })
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  )
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    /** Wait for the "listening on" line and return the port. */
    listening: () =>
      new Promise<number>((resolve, reject) => {
        const check = () => {
          const match = /listening on ws:\/\/[^:]+:(\d+)\//.exec(stdout)
          if (match) resolve(Number(match[1]))
        }
        child.stdout!.on('data', check)
        child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)))
        check()
      }),
  }
}

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

describe('roomwire-server', () => {
  it('prints help listing every flag with its env name', async () => {
    const { exited, output } = run(['--help'])
    expect(await exited).toBe(0)
    expect(output().stdout).toContain('--rooms-max-members')
    expect(output().stdout).toContain('ROOMWIRE_ROOMS_MAX_MEMBERS')
    expect(output().stdout).toContain('--config')
    // Each flag shows what kind of value it takes; a bool flag may stand alone.
    expect(output().stdout).toMatch(/--port <port> +TCP port/)
    expect(output().stdout).toMatch(/--ping-interval-secs <seconds> /)
    expect(output().stdout).toMatch(/--auth-required \[true\|false\] /)
  })

  it('prints the package version', async () => {
    const { exited, output } = run(['--version'])
    expect(await exited).toBe(0)
    const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }
    expect(output().stdout.trim()).toBe(pkg.version)
  })

  it('starts, prints where it listens, serves /health and WebSockets, and stops on SIGTERM', async () => {
    const server = run(['--port', '0', '--host', '127.0.0.1'], { env: { ROOMWIRE_LOG_LEVEL: 'warn' } })
    const port = await server.listening()
    expect(server.output().stdout).toContain(`ws://127.0.0.1:${port}/ws`)
    await expect((await fetch(`http://127.0.0.1:${port}/health`)).json()).resolves.toMatchObject({
      status: 'ok',
    })
    const client = new TestClient(`ws://127.0.0.1:${port}/ws`)
    await client.next('welcome')
    server.child.kill('SIGTERM')
    await expect(client.closed).resolves.toMatchObject({ code: 1001 })
    expect(await server.exited).toBe(0)
  })

  it('reads roomwire.config.json from its working directory', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'roomwire-cli-'))
    writeFileSync(
      join(cwd, 'roomwire.config.json'),
      JSON.stringify({ host: '127.0.0.1', port: 0, path: '/live', log_level: 'silent' }),
    )
    const server = run([], { cwd })
    await server.listening()
    expect(server.output().stdout).toMatch(/ws:\/\/127\.0\.0\.1:\d+\/live/)
    server.child.kill('SIGINT')
    const code = await server.exited
    expect(code, server.output().stderr).toBe(0)
  })

  it('stops before listening with a message naming a bad key', async () => {
    const { exited, output } = run([], { env: { ROOMWIRE_ROOMS_MAX_MEMBERS: 'lots' } })
    expect(await exited).toBe(2)
    expect(output().stderr).toContain(
      'rooms.max_members (from environment ROOMWIRE_ROOMS_MAX_MEMBERS) is "lots"',
    )
  })

  it('validates events with the protocol module named by --protocol', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'roomwire-cli-'))
    const protocolModule = join(packageDir, 'test', 'fixtures', 'chat-protocol.ts')
    const server = run(
      ['--port', '0', '--host', '127.0.0.1', '--protocol', protocolModule, '--log-level', 'warn'],
      { cwd },
    )
    const port = await server.listening()
    const client = new TestClient(`ws://127.0.0.1:${port}/ws`)
    await client.next('welcome')
    client.send({ type: 'join', room: 'general' })
    await client.next('joined')
    client.send({ type: 'publish', room: 'general', event: 'chat', data: { text: 42 }, ref: 1 })
    await expect(client.next('error')).resolves.toMatchObject({
      code: 'invalid_event',
      message: 'data.text: must be a string',
      ref: 1,
    })
    client.send({ type: 'publish', room: 'general', event: 'chat', data: { text: 'hi' }, ref: 2 })
    await expect(client.next('ack')).resolves.toMatchObject({ ref: 2, seq: 1 })
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })

  it.each([
    ['beside the protocol', [], 'beside_lobby'],
    [
      'from --handlers',
      ['--handlers', join(packageDir, 'test', 'fixtures', 'rooms-handlers.ts')],
      'own_lobby',
    ],
  ])('answers requests with the handlers %s', async (_, flags, id) => {
    const protocolModule = join(packageDir, 'test', 'fixtures', 'rooms-protocol.ts')
    const server = run(['--port', '0', '--host', '127.0.0.1', '--protocol', protocolModule, ...flags], {
      env: { ROOMWIRE_LOG_LEVEL: 'warn' },
    })
    const client = new TestClient(`ws://127.0.0.1:${await server.listening()}/ws`)
    await client.next('welcome')
    client.send({ type: 'request', name: 'createRoom', input: { name: 'lobby' }, id: 'k', ref: 1 })
    await expect(client.next('reply')).resolves.toEqual({ type: 'reply', ref: 1, output: { id } })
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })

  it("answers a handler's RequestError and RoomServerError from the published bin", async () => {
    // The bin runs dist/cli.js, a bundle of its own: the app's error classes are dist/index.js's copies.
    const bin = join(packageDir, 'bin', 'roomwire-server.js')
    expect(existsSync(join(packageDir, 'dist', 'cli.js')), 'no packages/server/dist: run pnpm build').toBe(
      true,
    )
    const app = join(packageDir, 'test', 'fixtures', 'refusing-app.mjs')
    const child = spawn(process.execPath, [bin, '--port', '0', '--host', '127.0.0.1', '--protocol', app], {
      env: { PATH: process.env.PATH ?? '', ROOMWIRE_LOG_LEVEL: 'fatal' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    let stdout = ''
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString()
        const match = /listening on ws:\/\/[^:]+:(\d+)\//.exec(stdout)
        if (match !== null) resolve(Number(match[1]))
      })
      child.once('exit', (code) => reject(new Error(`exited ${code}`)))
    })
    const client = new TestClient(`ws://127.0.0.1:${port}/ws`)
    await client.next('welcome')
    client.send({ type: 'request', name: 'createRoom', input: { name: 'taken' }, id: 'a', ref: 1 })
    await expect(client.next('reply')).resolves.toEqual({
      type: 'reply',
      ref: 1,
      error: { code: 'name_taken', message: 'That name is taken' },
    })
    client.send({ type: 'request', name: 'createRoom', input: { name: 'down' }, id: 'b', ref: 2 })
    await expect(client.next('error')).resolves.toMatchObject({ ref: 2, code: 'unavailable' })
    client.send({ type: 'request', name: 'createRoom', input: { name: 'x' }, id: 'c', ref: 3 })
    await expect(client.next('reply')).resolves.toEqual({ type: 'reply', ref: 3, output: { id: 'room_x' } })
    child.kill('SIGTERM')
  })

  it('stops with a clear message when a handler names no declared request', async () => {
    const protocolModule = join(packageDir, 'test', 'fixtures', 'rooms-protocol.ts')
    const typo = join(packageDir, 'test', 'fixtures', 'typo-handlers.ts')
    const { exited, output } = run(['--protocol', protocolModule, '--handlers', typo])
    expect(await exited).toBe(2)
    expect(output().stderr).toContain(
      'handlers.createRoon: the protocol declares no request "createRoon" (it declares: createRoom)',
    )
  })

  it('stops with a clear message when the protocol declares requests and no handlers are found', async () => {
    const protocolModule = join(packageDir, 'test', 'fixtures', 'unhandled-protocol.ts')
    const { exited, output } = run(['--protocol', protocolModule])
    expect(await exited).toBe(2)
    expect(output().stderr).toContain('declares requests (createRoom) but no handlers were found')
  })

  it('stops with a clear message when the handlers module exports no handlers', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'roomwire-cli-'))
    writeFileSync(join(cwd, 'none.mjs'), 'export const x = 1\n')
    const { exited, output } = run(['--handlers', 'none.mjs'], { cwd })
    expect(await exited).toBe(2)
    expect(output().stderr).toContain('handlers: ')
    expect(output().stderr).toContain('exports no request handlers')
  })

  it('logs a bug that escaped every guard at fatal and exits with 70', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'roomwire-cli-'))
    // A protocol module (shape only) that plants a bug outside any connection: a timer that throws.
    writeFileSync(
      join(cwd, 'buggy.mjs'),
      'const ok = (_e, data) => ({ success: true, data })\n' +
        'export default { validateEvent: ok, validatePresence: (s) => ({ success: true, data: s }), validateDirect: ok }\n' +
        "setTimeout(() => { throw new Error('planted bug') }, 300)\n",
    )
    const server = run(['--port', '0', '--host', '127.0.0.1', '--protocol', 'buggy.mjs'], {
      cwd,
      env: { ROOMWIRE_LOG_LEVEL: 'warn' },
    })
    expect(await server.exited).toBe(70)
    const fatal = server
      .output()
      .stdout.split('\n')
      .filter((line) => line.includes('"level":60'))
      .map((line) => JSON.parse(line) as { msg: string; kind: string; err: { message: string } })
    expect(fatal).toEqual([
      expect.objectContaining({
        msg: 'a bug escaped: exiting',
        kind: 'uncaughtException',
        err: expect.objectContaining({ message: 'planted bug' }),
      }),
    ])
  })

  it('stops with a clear message when the protocol module exports no protocol', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'roomwire-cli-'))
    writeFileSync(join(cwd, 'not-a-protocol.mjs'), 'export const x = 1\n')
    const { exited, output } = run(['--protocol', 'not-a-protocol.mjs'], { cwd })
    expect(await exited).toBe(2)
    expect(output().stderr).toContain('exports no defineProtocol() result')
  })

  it('says how to run a TypeScript protocol module when Node has no loader for it', async () => {
    // The published bin under plain Node, with no tsx: Node 20 cannot import a .ts file by itself.
    const bin = join(packageDir, 'bin', 'roomwire-server.js')
    expect(existsSync(join(packageDir, 'dist', 'cli.js')), 'no packages/server/dist: run pnpm build').toBe(
      true,
    )
    const cwd = mkdtempSync(join(tmpdir(), 'roomwire-cli-'))
    writeFileSync(join(cwd, 'protocol.ts'), 'export const version: number = 1\n')
    const child = spawn(process.execPath, [bin, '--protocol', './protocol.ts'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.push(child)
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code).toBe(2)
    expect(stderr).toContain(
      'node --import tsx node_modules/@roomwire/server/bin/roomwire-server.js --protocol ',
    )
    expect(stderr).toContain('NODE_OPTIONS="--import tsx" npx @roomwire/server')
  })

  it('runs a TypeScript protocol module the way that message says, with NODE_OPTIONS="--import tsx"', async () => {
    // The published bin again, now with the loader the hint names (tsx resolves from the working folder,
    // as it would from an app's own node_modules).
    const bin = join(packageDir, 'bin', 'roomwire-server.js')
    const protocolModule = join(packageDir, 'test', 'fixtures', 'chat-protocol.ts')
    const child = spawn(
      process.execPath,
      [bin, '--port', '0', '--host', '127.0.0.1', '--protocol', protocolModule, '--log-level', 'warn'],
      {
        cwd: packageDir,
        env: { ...process.env, NODE_OPTIONS: '--import tsx' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    children.push(child)
    let stdout = ''
    let stderr = ''
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d.toString()
        const match = /listening on ws:\/\/[^:]+:(\d+)\//.exec(stdout)
        if (match !== null) resolve(Number(match[1]))
      })
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)))
    })
    const client = new TestClient(`ws://127.0.0.1:${port}/ws`)
    await client.next('welcome')
    client.send({ type: 'join', room: 'general' })
    await client.next('joined')
    client.send({ type: 'publish', room: 'general', event: 'chat', data: { text: 42 }, ref: 1 })
    await expect(client.next('error')).resolves.toMatchObject({ code: 'invalid_event', ref: 1 })
    child.kill('SIGTERM')
    expect(await new Promise((resolve) => child.once('exit', resolve))).toBe(0)
  })

  it('joins the Redis cluster when redis_url is set and reports the store in /health and /metrics', async () => {
    const prefix = `rwtest:cli-${process.pid}-${Date.now()}:`
    const server = run(
      ['--port', '0', '--host', '127.0.0.1', '--redis-url', REDIS_URL, '--redis-key-prefix', prefix],
      { env: { ROOMWIRE_LOG_LEVEL: 'warn' } },
    )
    const port = await server.listening()
    await expect((await fetch(`http://127.0.0.1:${port}/health`)).json()).resolves.toMatchObject({
      status: 'ok',
    })
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain(
      'roomwire_cluster_store_up 1',
    )
    server.child.kill('SIGTERM')
    expect(await server.exited).toBe(0)
  })

  describe('--state-file', () => {
    const start = (file: string) =>
      run(['--port', '0', '--host', '127.0.0.1', '--state-file', file], {
        env: { ROOMWIRE_LOG_LEVEL: 'warn' },
      })

    /** Start, join `room`, publish `count` messages; the epoch and the last seq. */
    async function publishOn(port: number, room: string, count: number) {
      const client = new TestClient(`ws://127.0.0.1:${port}/ws`)
      await client.next('welcome')
      client.send({ type: 'join', room })
      const joined = await client.next('joined')
      let seq = joined.seq
      for (let i = 0; i < count; i++) {
        const ack = await client.request({ type: 'publish', room, event: 'e', data: i })
        if (ack.type === 'ack') seq = ack.seq ?? seq
      }
      await client.close()
      return { epoch: joined.epoch, seq }
    }

    async function rejoin(port: number, room: string, since: number, epoch: string) {
      const client = new TestClient(`ws://127.0.0.1:${port}/ws`)
      await client.next('welcome')
      client.send({ type: 'join', room, since, epoch })
      const joined = await client.next('joined')
      await client.close()
      return joined
    }

    it('keeps every room across SIGTERM: a member rejoins in the same epoch with recovered: true', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'roomwire-cli-')), 'state.jsonl')
      const first = start(file)
      const before = await publishOn(await first.listening(), 'team', 3)
      first.child.kill('SIGTERM')
      expect(await first.exited).toBe(0)
      expect(existsSync(file)).toBe(true)

      const second = start(file)
      const port = await second.listening()
      await expect(rejoin(port, 'team', 1, before.epoch)).resolves.toMatchObject({
        epoch: before.epoch,
        seq: 3,
        recovered: true,
        replay: 2,
      })
      second.child.kill('SIGTERM')
      expect(await second.exited).toBe(0)
    })

    // What `kill -TERM -<group>` does to a server behind a wrapper that forwards SIGTERM too (the demo's
    // `pnpm start`, many supervisors): the server hears the stop twice, the second while it is saving.
    it('keeps every room when a second SIGTERM comes while it shuts down', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'roomwire-cli-')), 'state.jsonl')
      const first = run(
        ['--port', '0', '--host', '127.0.0.1', '--state-file', file, '--shutdown-timeout-secs', '3'],
        {
          env: { ROOMWIRE_LOG_LEVEL: 'info' },
        },
      )
      const port = await first.listening()
      const before = await publishOn(port, 'team', 3)
      // A member that never answers the close holds the shutdown open (up to its 3 s) for the second signal.
      const stuck = new TestClient(`ws://127.0.0.1:${port}/ws`)
      await stuck.next('welcome')
      ;(stuck.ws as unknown as { _socket: { pause(): void } })._socket.pause()
      first.child.kill('SIGTERM')
      await vi.waitFor(() => expect(first.output().stdout).toContain('shutting down'), { interval: 5 })
      first.child.kill('SIGTERM')
      expect(await first.exited).toBe(0)
      expect(first.output().stdout).toContain('already shutting down')
      const second = start(file)
      await expect(rejoin(await second.listening(), 'team', 3, before.epoch)).resolves.toMatchObject({
        epoch: before.epoch,
        seq: 3,
        recovered: true,
      })
      second.child.kill('SIGTERM')
      expect(await second.exited).toBe(0)
    })

    it('starts new epochs after a crash that followed a restore: the file is gone once read', async () => {
      const file = join(mkdtempSync(join(tmpdir(), 'roomwire-cli-')), 'state.jsonl')
      const first = start(file)
      const before = await publishOn(await first.listening(), 'team', 2)
      first.child.kill('SIGTERM')
      expect(await first.exited).toBe(0)

      const second = start(file)
      await publishOn(await second.listening(), 'team', 1)
      expect(existsSync(file)).toBe(false)
      second.child.kill('SIGKILL')
      await second.exited

      const third = start(file)
      const joined = await rejoin(await third.listening(), 'team', before.seq, before.epoch)
      expect(joined).toMatchObject({ seq: 0, recovered: false })
      expect(joined.epoch).not.toBe(before.epoch)
      third.child.kill('SIGTERM')
      expect(await third.exited).toBe(0)
    })

    it('stops with a clear message when redis_url is set too', async () => {
      const { exited, output } = run(['--state-file', 'state.jsonl', '--redis-url', REDIS_URL])
      expect(await exited).toBe(2)
      expect(output().stderr).toContain(
        'state_file is for the memory adapter; with redis_url the rooms live in Redis',
      )
    })

    it('stops with a clear message, and keeps the file, when it is not a state file', async () => {
      const cwd = mkdtempSync(join(tmpdir(), 'roomwire-cli-'))
      writeFileSync(join(cwd, 'state.jsonl'), 'hello\n')
      const { exited, output } = run(['--state-file', 'state.jsonl', '--port', '0'], { cwd })
      expect(await exited).toBe(2)
      expect(output().stderr).toContain(`state file ${join(cwd, 'state.jsonl')} is not a roomwire state file`)
      expect(readFileSync(join(cwd, 'state.jsonl'), 'utf8')).toBe('hello\n')
    })
  })
})
