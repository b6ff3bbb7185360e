import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createRoomServer } from '../src/index'
import { startTestServer, TestClient } from './helpers'

const auth = { authorization: 'Bearer admin-secret' }

describe('health and metrics', () => {
  it('answers GET /health with the status and counts', async () => {
    await using server = await startTestServer()
    await using _alice = await server.connect({ join: 'r' })
    const res = await fetch(`${server.httpUrl}/health`)
    expect(res.status).toBe(200)
    await expect(res.json()).resolves.toEqual({
      status: 'ok',
      connections: 1,
      rooms: 1,
      idleRooms: 0,
      historyBytes: 0,
    })
  })

  it('serves Prometheus metrics: connections, rooms, messages, bytes, errors by code', async () => {
    await using server = await startTestServer()
    await using alice = await server.connect({ join: 'r' })
    await alice.request({ type: 'leave', room: 'nope' })
    const res = await fetch(`${server.httpUrl}/metrics`)
    expect(res.headers.get('content-type')).toContain('text/plain')
    const text = await res.text()
    expect(text).toMatch(/^roomwire_connections 1$/m)
    expect(text).toMatch(/^roomwire_rooms 1$/m)
    expect(text).toMatch(/^roomwire_messages_in_total\{type="join"\} 1$/m)
    expect(text).toMatch(/^roomwire_errors_total\{code="not_joined"\} 1$/m)
    expect(text).toMatch(/^roomwire_bytes_in_total \d+$/m)
    expect(text).toMatch(/^roomwire_messages_out_total [1-9]/m)
    expect(text).toContain('roomwire_slow_consumers_total 0')
  })

  it('keeps the metrics of two servers in one process apart', async () => {
    await using a = await startTestServer()
    await using b = await startTestServer()
    await using _client = await a.connect()
    expect(await (await fetch(`${b.httpUrl}/metrics`)).text()).toMatch(/^roomwire_connections 0$/m)
  })

  it('answers a plain GET of the WebSocket path with 426 Upgrade Required', async () => {
    await using server = await startTestServer()
    const res = await fetch(`${server.httpUrl}/ws`)
    expect(res.status).toBe(426)
    expect(res.headers.get('upgrade')).toBe('websocket')
    expect(await res.text()).toContain('WebSocket endpoint')
  })

  it('answers unknown paths with 404', async () => {
    await using server = await startTestServer()
    expect((await fetch(`${server.httpUrl}/nope`)).status).toBe(404)
  })
})

describe('admin API', () => {
  it('answers 404 while no admin token is configured', async () => {
    await using server = await startTestServer()
    expect((await fetch(`${server.httpUrl}/rooms/r`, { headers: auth })).status).toBe(404)
  })

  it('answers 401 to a missing or wrong token', async () => {
    await using server = await startTestServer({ adminToken: 'admin-secret' })
    expect((await fetch(`${server.httpUrl}/rooms/r`)).status).toBe(401)
    expect(
      (await fetch(`${server.httpUrl}/rooms/r`, { headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401)
  })

  it('broadcasts to a room with POST /rooms/:room/broadcast, with a seq and from "server"', async () => {
    await using server = await startTestServer({ adminToken: 'admin-secret' })
    await using alice = await server.connect({ join: 'team/general' })
    const res = await fetch(`${server.httpUrl}/rooms/team%2Fgeneral/broadcast`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ event: 'notice', data: { text: 'maintenance' } }),
    })
    expect(res.status).toBe(200)
    await expect(res.json()).resolves.toEqual({ room: 'team/general', seq: 1 })
    await expect(alice.next('message')).resolves.toMatchObject({
      room: 'team/general',
      event: 'notice',
      from: 'server',
      seq: 1,
      data: { text: 'maintenance' },
    })
  })

  it('refuses a broadcast body that is not { event, data } with 400', async () => {
    await using server = await startTestServer({ adminToken: 'admin-secret' })
    const post = (body: string) =>
      fetch(`${server.httpUrl}/rooms/r/broadcast`, { method: 'POST', headers: auth, body }).then(
        (r) => r.status,
      )
    expect(await post('nope')).toBe(400)
    expect(await post('{"event":"bad name","data":1}')).toBe(400)
    expect(await post('{"event":"ok"}')).toBe(400)
  })

  it('answers GET /rooms/:room with the room info, and 404 for a room without state', async () => {
    await using server = await startTestServer({ adminToken: 'admin-secret' })
    await using alice = await server.connect({ join: 'r' })
    const res = await fetch(`${server.httpUrl}/rooms/r`, { headers: auth })
    await expect(res.json()).resolves.toEqual({
      room: 'r',
      memberCount: 1,
      members: [{ id: alice.id }],
      seq: 0,
      epoch: expect.any(String),
    })
    expect((await fetch(`${server.httpUrl}/rooms/other`, { headers: auth })).status).toBe(404)
  })
})

describe('static files', () => {
  function site(): string {
    const dir = mkdtempSync(join(tmpdir(), 'roomwire-static-'))
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>demo</title>')
    mkdirSync(join(dir, 'assets'))
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)')
    writeFileSync(join(dir, 'style.css'), 'body{}')
    return dir
  }

  it('serves index.html for / and files with their content types', async () => {
    await using server = await startTestServer({ staticDir: site() })
    const index = await fetch(`${server.httpUrl}/`)
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8')
    await expect(index.text()).resolves.toContain('demo')
    const js = await fetch(`${server.httpUrl}/assets/app.js`)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    expect((await fetch(`${server.httpUrl}/style.css`)).headers.get('content-type')).toBe(
      'text/css; charset=utf-8',
    )
    expect((await fetch(`${server.httpUrl}/missing.js`)).status).toBe(404)
  })

  it('never serves a file outside the folder', async () => {
    const dir = site()
    writeFileSync(join(dir, '..', 'secret.txt'), 'secret')
    await using server = await startTestServer({ staticDir: dir })
    for (const path of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/%00',
      '/..%5csecret.txt',
    ]) {
      const status = await new Promise<number>((resolve, reject) => {
        // fetch normalizes "..": send the raw path.
        const req = httpRequest({ host: '127.0.0.1', port: server.port, path }, (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        })
        req.on('error', reject)
        req.end()
      })
      expect(status, path).toBe(404)
    }
  })

  it('keeps the WebSocket on /ws beside the files', async () => {
    await using server = await startTestServer({ staticDir: site() })
    await using client = await server.connect()
    expect(client.id).toMatch(/^c_/)
  })
})

describe('hosting', () => {
  it('attaches to an existing http.Server and shares its port with the app routes', async () => {
    const http = createServer((req, res) => {
      void rooms.handleRequest(req, res).then((handled) => {
        if (!handled) res.end('app')
      })
    })
    const rooms = createRoomServer({ server: http })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const port = (http.address() as { port: number }).port
    const client = new TestClient(`ws://127.0.0.1:${port}/ws`)
    await client.next('welcome')
    expect(await (await fetch(`http://127.0.0.1:${port}/hello`)).text()).toBe('app')
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200)
    // With the admin API off its paths are the app's too (a chat app's own /rooms/:id).
    expect(await (await fetch(`http://127.0.0.1:${port}/rooms/abc/messages`)).text()).toBe('app')
    await client.close()
    await rooms.close()
    http.closeAllConnections()
    await new Promise((resolve) => http.close(resolve))
  })

  it('claims /rooms/... for the admin API only while it is on', async () => {
    const rooms = createRoomServer({ noServer: true, adminToken: 'a-token' })
    const http = createServer((req, res) => {
      void rooms.handleRequest(req, res).then((handled) => {
        if (!handled) res.end('app')
      })
    })
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const port = (http.address() as { port: number }).port
    expect((await fetch(`http://127.0.0.1:${port}/rooms/abc`)).status).toBe(401)
    expect(await (await fetch(`http://127.0.0.1:${port}/room/abc`)).text()).toBe('app')
    await rooms.close()
    await new Promise((resolve) => http.close(resolve))
  })

  it('can be driven by handleUpgrade from any framework with noServer', async () => {
    const rooms = createRoomServer({ noServer: true })
    const http = createServer()
    http.on('upgrade', (req, socket, head) => rooms.handleUpgrade(req, socket, head))
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
    const port = (http.address() as { port: number }).port
    const client = new TestClient(`ws://127.0.0.1:${port}/anything`)
    await client.next('welcome')
    await client.close()
    await rooms.close()
    await new Promise((resolve) => http.close(resolve))
  })

  // The kernel's own figure (ss's Send-Q of a listening socket is its accept queue's size): a storm of
  // reconnects waits in that queue instead of having its SYNs dropped and re-sent seconds later.
  it.runIf(process.platform === 'linux')('listens with a 4096 backlog, or the one given', async () => {
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'))
    const acceptQueue = (port: number) =>
      Number(
        execFileSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' })
          .trim()
          .split(/\s+/)[2],
      )
    await using byDefault = await startTestServer()
    expect(acceptQueue(byDefault.port)).toBe(Math.min(4096, somaxconn))
    await using small = await startTestServer({ backlog: 7 })
    expect(acceptQueue(small.port)).toBe(7)
    expect(() => createRoomServer({ port: 0, backlog: 0 })).toThrow(
      /backlog must be a positive integer, got 0/,
    )
  })

  it('refuses to start with more than one of port, server and noServer', () => {
    expect(() => createRoomServer({ port: 0, noServer: true })).toThrow(/exactly one/)
  })

  it('refuses an out-of-range limit naming the option', () => {
    expect(() => createRoomServer({ noServer: true, maxMembersPerRoom: 0 })).toThrow(/maxMembersPerRoom is 0/)
  })
})
