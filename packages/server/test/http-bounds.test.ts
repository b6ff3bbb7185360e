import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it, vi } from 'vitest'
import { startTestServer } from './helpers'
import { manualClock } from './manual-clock'

const auth = { authorization: 'Bearer admin-secret' }

/** POST `chunks` one by one without a Content-Length (chunked), resolving with the status and body. */
function postChunked(
  port: number,
  path: string,
  chunks: Buffer[],
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', headers: { ...auth, 'transfer-encoding': 'chunked' } },
      (res) => {
        let body = ''
        res.on('data', (d: Buffer) => {
          body += d.toString()
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    const next = (i: number) => {
      if (i === chunks.length) req.end()
      else req.write(chunks[i], () => next(i + 1))
    }
    next(0)
  })
}

describe('request bodies', () => {
  it('answers a 10 MB admin body with 413, not a reset', async () => {
    await using server = await startTestServer({ adminToken: 'admin-secret' })
    const res = await fetch(`${server.httpUrl}/rooms/r/broadcast`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ event: 'e', data: 'x'.repeat(10 * 1024 * 1024) }),
    })
    expect(res.status).toBe(413)
    await expect(res.json()).resolves.toEqual({ error: 'body is larger than the limit of 65536 bytes' })
    expect((await server.server.roomInfo('r'))?.seq ?? 0).toBe(0)
  })

  it('answers a chunked body that grows past the limit with 413 once it does', async () => {
    await using server = await startTestServer({ adminToken: 'admin-secret', maxMessageBytes: 1024 })
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(16 * 1024, 'x'))
    await expect(postChunked(server.port, '/rooms/r/broadcast', chunks)).resolves.toMatchObject({
      status: 413,
      body: expect.stringContaining('1024 bytes'),
    })
  })

  it('drains a refused body for 5 s on the server clock, then closes the socket', async () => {
    const clock = manualClock()
    await using server = await startTestServer({ adminToken: 'admin-secret', maxMessageBytes: 1024, clock })
    // A body announced at 100 kB of which 4 kB come: the 413 goes out at once, the rest never does.
    const socket = connect(server.port, '127.0.0.1')
    let answer = ''
    let closed = false
    socket.on('data', (d: Buffer) => {
      answer += d.toString()
    })
    socket.on('close', () => {
      closed = true
    })
    socket.write(
      'POST /rooms/r/broadcast HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer admin-secret\r\n' +
        `Content-Length: 100000\r\n\r\n${'x'.repeat(4096)}`,
    )
    await vi.waitFor(() => expect(answer).toMatch(/^HTTP\/1\.1 413 /))
    clock.advance(4_999)
    // A request on another socket answered: the server has done whatever the clock made due.
    expect((await fetch(`${server.httpUrl}/health`)).status).toBe(200)
    expect(closed).toBe(false)
    clock.advance(1)
    // Well before the 5 s a global timer would take.
    await vi.waitFor(() => expect(closed).toBe(true), { timeout: 2000 })
  })

  it('still serves the next request after a refused body', async () => {
    await using server = await startTestServer({ adminToken: 'admin-secret', maxMessageBytes: 1024 })
    await postChunked(server.port, '/rooms/r/broadcast', [Buffer.alloc(4096, 'x')])
    const res = await fetch(`${server.httpUrl}/rooms/r/broadcast`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ event: 'e', data: 1 }),
    })
    expect(res.status).toBe(200)
  })
})

describe('static files and symlinks', () => {
  function site(): { dir: string; outside: string } {
    const base = mkdtempSync(join(tmpdir(), 'roomwire-links-'))
    const dir = join(base, 'site')
    mkdirSync(join(dir, 'assets'), { recursive: true })
    writeFileSync(join(dir, 'index.html'), '<title>site</title>')
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)')
    const outside = join(base, 'outside')
    mkdirSync(outside)
    writeFileSync(join(outside, 'secret.txt'), 'secret')
    return { dir, outside }
  }

  async function get(port: number, path: string): Promise<{ status: number; body: string }> {
    const res = await fetch(`http://127.0.0.1:${port}${path}`)
    return { status: res.status, body: await res.text() }
  }

  it('refuses a symlink inside the folder whose target is outside it', async () => {
    const { dir, outside } = site()
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'leak.txt'))
    symlinkSync(outside, join(dir, 'leakdir'))
    await using server = await startTestServer({ staticDir: dir })
    expect(await get(server.port, '/leak.txt')).toMatchObject({ status: 404 })
    expect(await get(server.port, '/leakdir/secret.txt')).toMatchObject({ status: 404 })
  })

  it('refuses a directory whose index.html is a symlink out of the folder', async () => {
    const { dir, outside } = site()
    mkdirSync(join(dir, 'docs'))
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'docs', 'index.html'))
    await using server = await startTestServer({ staticDir: dir })
    expect(await get(server.port, '/docs/')).toMatchObject({ status: 404 })
  })

  it('follows a symlink that stays inside the folder, typed by the name asked for', async () => {
    const { dir } = site()
    symlinkSync(join(dir, 'assets', 'app.js'), join(dir, 'latest.js'))
    await using server = await startTestServer({ staticDir: dir })
    const res = await fetch(`${server.httpUrl}/latest.js`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    await expect(res.text()).resolves.toBe('console.log(1)')
  })

  it('serves a folder that is itself reached through a symlink', async () => {
    const { dir } = site()
    const link = join(mkdtempSync(join(tmpdir(), 'roomwire-links-')), 'site-link')
    symlinkSync(dir, link)
    await using server = await startTestServer({ staticDir: link })
    expect(await get(server.port, '/assets/app.js')).toEqual({ status: 200, body: 'console.log(1)' })
  })
})
