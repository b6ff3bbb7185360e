import { spawn } from 'node:child_process'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { createRoomServer } from '@roomwire/server'
import { describe, expect, it } from 'vitest'

const script = fileURLToPath(new URL('./fixtures/close-and-exit.ts', import.meta.url))
const waitingScript = fileURLToPath(new URL('./fixtures/wait-for-server.ts', import.meta.url))

function spawnFixture(file: string, url: string) {
  return spawn(process.execPath, ['--conditions=@roomwire/source', '--import', 'tsx', file, url], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

async function freePort(): Promise<number> {
  const probe = net.createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as net.AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

/** Run the fixture; resolves with how long the process lived after it printed "closed". */
function run(url: string): Promise<{ code: number | null; afterCloseMs: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawnFixture(script, url)
    let output = ''
    let closedAt = 0n
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk
      const match = /closed (\d+)/.exec(output)
      if (match && closedAt === 0n) closedAt = process.hrtime.bigint()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk
    })
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(killer)
      const afterCloseMs = closedAt === 0n ? Number.NaN : Number(process.hrtime.bigint() - closedAt) / 1e6
      resolve({ code, afterCloseMs, output })
    })
  })
}

describe('C8: after close() a Node process exits by itself', () => {
  it('when the connection was open', async () => {
    const server = createRoomServer({ port: 0, host: '127.0.0.1', logLevel: 'silent' })
    await server.ready
    const port = server.address()!.port
    try {
      const result = await run(`ws://127.0.0.1:${port}/ws`)
      expect(result.output).toMatch(/closed/)
      expect(result.code).toBe(0)
      expect(result.afterCloseMs).toBeLessThan(1_000)
    } finally {
      await server.close()
    }
  }, 20_000)

  it('when the server accepts TCP and never answers (mid-connect)', async () => {
    const sockets = new Set<net.Socket>()
    const silent = net.createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const { port } = silent.address() as net.AddressInfo
    try {
      const result = await run(`ws://127.0.0.1:${port}/ws`)
      expect(result.code).toBe(0)
      expect(result.afterCloseMs).toBeLessThan(1_000)
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => silent.close(() => resolve()))
    }
  }, 20_000)

  it('when nothing listens on the port (in backoff)', async () => {
    const result = await run(`ws://127.0.0.1:${await freePort()}/ws`)
    expect(result.code).toBe(0)
    expect(result.afterCloseMs).toBeLessThan(1_000)
  }, 20_000)
})

describe('a client waiting to reconnect keeps a Node process alive', () => {
  it("a script's `await room.ready` outlives a server that comes up late", async () => {
    const port = await freePort()
    const child = spawnFixture(waitingScript, `ws://127.0.0.1:${port}/ws`)
    let output = ''
    let server: ReturnType<typeof createRoomServer> | null = null
    const killer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    try {
      const code = await new Promise<number | null>((resolve, reject) => {
        child.on('error', reject)
        child.on('exit', resolve)
        child.stderr.on('data', (chunk: Buffer) => {
          output += chunk
        })
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk
          // Up only after the client failed twice: it sat in backoff with nothing else to do.
          if (server === null && /status connecting 2/.test(output)) {
            server = createRoomServer({ port, host: '127.0.0.1', logLevel: 'silent' })
          }
        })
      })
      expect(output).toMatch(/joined/)
      expect(code).toBe(0)
    } finally {
      clearTimeout(killer)
      await (server as ReturnType<typeof createRoomServer> | null)?.close()
    }
  }, 20_000)
})
