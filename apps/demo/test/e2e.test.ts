import type { ChildProcess } from 'node:child_process'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { build } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// The client's loopback proxy: the one way to really take a browser offline on 127.0.0.1 (Chromium's
// offline emulation leaves loopback WebSockets open).
import { startTcpProxy, type TcpProxy } from '../../../packages/client/test/integration/tcp-proxy'
import { testEnv } from '../../../scripts/test-env'
import { freePort, startDemoServer, stopDemoServer } from './demo-server'

const demo = fileURLToPath(new URL('../', import.meta.url))
const results = join(demo, 'test-results')

let server: ChildProcess
let port: number
let browser: Browser
let bobsLink: TcpProxy
const contexts: BrowserContext[] = []
const pageErrors: string[] = []

beforeAll(async () => {
  // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build (and warn that the
  // chunk is over 500 kB): build what `pnpm start` serves.
  const nodeEnv = process.env.NODE_ENV
  process.env.NODE_ENV = 'production'
  try {
    await build({ root: demo, configFile: join(demo, 'vite.config.ts'), logLevel: 'warn' })
  } finally {
    if (nodeEnv === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = nodeEnv
  }
  port = await freePort()
  server = await startDemoServer(port)
  bobsLink = await startTcpProxy(port)
  browser = await chromium.launch({
    executablePath: testEnv('CHROMIUM_PATH'),
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
})

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {})
  await browser?.close()
  await bobsLink?.close()
  if (server) await stopDemoServer(server)
})

async function person(name: string, via = port): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 700 } })
  contexts.push(context)
  const page = await context.newPage()
  page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`))
  await page.goto(`http://127.0.0.1:${via}/`)
  await page.getByLabel('Display name').fill(name)
  await page.getByRole('button', { name: 'Join' }).click()
  return { context, page }
}

const general = (page: Page) => page.getByRole('region', { name: 'Room general' })
const texts = (page: Page) => general(page).locator('.message .text').allTextContents()

async function say(page: Page, text: string) {
  const box = general(page).getByLabel('Message #general')
  await box.fill(text)
  await box.press('Enter')
}

describe('demo chat in Chromium', () => {
  it('two people chat, survive going offline and a server restart that keeps the rooms, and see every message once, in order', async () => {
    const ada = await person('Ada')
    // Bob's browser reaches the server through a link the test can cut.
    const bob = await person('Bob', bobsLink.port)

    // They see each other online and in the room.
    for (const { page } of [ada, bob]) {
      await expect
        .poll(() => general(page).getByLabel('Members here').textContent())
        .toMatch(/Ada.*Bob|Bob.*Ada/)
      await expect.poll(() => page.locator('[data-status="open"]').count()).toBe(1)
    }

    await say(ada.page, 'Hi Bob!')
    await expect.poll(() => texts(bob.page)).toEqual(['Hi Bob!'])
    await expect
      .poll(() => general(ada.page).locator('.message.own').getAttribute('data-status'))
      .toBe('delivered')
    await say(bob.page, 'Hello Ada, how are you?')
    await expect.poll(() => texts(ada.page)).toEqual(['Hi Bob!', 'Hello Ada, how are you?'])

    mkdirSync(results, { recursive: true })
    const shot = join(results, 'two-people-chatting.png')
    await ada.page.screenshot({ path: shot })
    if (process.env.ROOMWIRE_UPDATE_SCREENSHOTS === '1') copyFileSync(shot, join(demo, '../../docs/demo.png'))

    // Bob goes offline while Ada writes; back online, he sees every message once, in order.
    await bob.context.setOffline(true)
    bobsLink.refuse = true
    bobsLink.cut()
    await expect.poll(() => bob.page.locator('[data-status="open"]').count()).toBe(0)
    for (const text of ['Are you there?', 'I will keep writing', 'until you are back'])
      await say(ada.page, text)
    expect(await texts(bob.page)).toEqual(['Hi Bob!', 'Hello Ada, how are you?'])
    bobsLink.refuse = false
    await bob.context.setOffline(false)
    const all = [
      'Hi Bob!',
      'Hello Ada, how are you?',
      'Are you there?',
      'I will keep writing',
      'until you are back',
    ]
    await expect.poll(() => texts(bob.page), { timeout: 30_000 }).toEqual(all)
    await expect.poll(() => texts(ada.page)).toEqual(all)

    // The server restarts; both reconnect by themselves and chat again. Its state file kept the rooms:
    // both resume where they were, and nobody is told that messages are gone.
    await stopDemoServer(server)
    for (const { page } of [ada, bob]) {
      await expect.poll(() => page.locator('[data-status="open"]').count()).toBe(0)
    }
    server = await startDemoServer(port)
    for (const { page } of [ada, bob]) {
      await expect.poll(() => page.locator('[data-status="open"]').count(), { timeout: 30_000 }).toBe(1)
    }
    await say(bob.page, 'Back after the restart')
    await expect.poll(() => texts(ada.page), { timeout: 15_000 }).toContain('Back after the restart')
    expect((await texts(ada.page)).filter((t) => t === 'Back after the restart')).toHaveLength(1)
    for (const { page } of [ada, bob]) expect(await general(page).locator('.notice').count()).toBe(0)
    // A page loaded after the restart (the name is remembered) gets the history from before it too.
    await ada.page.reload()
    await expect.poll(() => texts(ada.page), { timeout: 15_000 }).toEqual([...all, 'Back after the restart'])
    expect(pageErrors).toEqual([])
  })
})
