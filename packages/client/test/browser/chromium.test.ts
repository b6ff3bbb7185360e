import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createRoomServer, type RoomServer } from '@roomwire/server'
import * as esbuild from 'esbuild'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { testEnv } from '../../../../scripts/test-env'
import { createClient } from '../../src/index'

const entry = fileURLToPath(new URL('../../src/index.ts', import.meta.url))
let bundle = ''
let roomServer: RoomServer
let page: Server
let browser: Browser
let wsUrl = ''
let pageUrl = ''

beforeAll(async () => {
  // What a browser app gets: the browser field (isomorphic-ws's browser.js), no Node built-ins. zod is
  // bundled here only because the page has no app to bring it.
  const built = await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'iife',
    globalName: 'roomwire',
    platform: 'browser',
    conditions: ['@roomwire/source'],
    write: false,
    minify: true,
    metafile: true,
  })
  bundle = built.outputFiles[0]!.text
  const inputs = Object.keys(built.metafile.inputs)
  expect(inputs.filter((path) => /node_modules\/(\.pnpm\/)?ws[@/]/.test(path))).toEqual([])
  expect(inputs.filter((path) => path.startsWith('node:'))).toEqual([])

  roomServer = createRoomServer({ port: 0, host: '127.0.0.1', logLevel: 'silent' })
  await roomServer.ready
  wsUrl = `ws://127.0.0.1:${(roomServer.address() as AddressInfo).port}/ws`
  page = createServer((request, response) => {
    if (request.url === '/client.js') {
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle)
    } else {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<script src="/client.js"></script>')
    }
  })
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve))
  pageUrl = `http://127.0.0.1:${(page.address() as AddressInfo).port}/`
  browser = await chromium.launch({
    executablePath: testEnv('CHROMIUM_PATH'),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}, 30_000)

afterAll(async () => {
  await browser?.close()
  await new Promise<void>((resolve) => page?.close(() => resolve()))
  await roomServer?.close()
})

describe('in Chromium', () => {
  it('connects with the browser WebSocket, joins and chats with a Node client', async () => {
    const tab = await browser.newPage()
    await tab.goto(pageUrl)
    const node = createClient({ url: wsUrl, logger: { error: () => {} } })
    const nodeRoom = node.join('lobby')
    const fromBrowser: unknown[] = []
    nodeRoom.on('chat', (data) => fromBrowser.push(data))
    await nodeRoom.ready

    const browserId = await tab.evaluate(async (url) => {
      const w = window as unknown as {
        roomwire: typeof import('../../src/index')
        seen: unknown[]
        client: import('../../src/index').Client
      }
      w.seen = []
      const client = w.roomwire.createClient({ url })
      w.client = client
      const room = client.join('lobby')
      room.onMessage((m) => w.seen.push([m.seq, m.data, m.own]))
      await room.ready
      await room.publish('chat', { text: 'hello from Chromium' })
      return client.id
    }, wsUrl)

    await vi.waitFor(() => expect(fromBrowser).toEqual([{ text: 'hello from Chromium' }]))
    await nodeRoom.publish('chat', { text: 'hello from Node' })
    await vi.waitFor(async () => {
      const seen = await tab.evaluate(() => (window as unknown as { seen: unknown[] }).seen)
      expect(seen).toEqual([
        [1, { text: 'hello from Chromium' }, true],
        [2, { text: 'hello from Node' }, false],
      ])
    })
    expect(nodeRoom.members.map((m) => m.id)).toContain(browserId)
    await tab.evaluate(() => (window as unknown as { client: { close(): void } }).client.close())
    node.close()
    await tab.close()
  }, 30_000)
})
