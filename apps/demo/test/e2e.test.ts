import type { ChildProcess } from 'node:child_process'
import { copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createClient } from '@roomwire/client'
import { type Browser, chromium, type Page } from 'playwright-core'
import { build } from 'vite'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
// The client's loopback proxy: the one way to really take a browser offline on 127.0.0.1 (Chromium's
// offline emulation leaves loopback WebSockets open).
import { startTcpProxy, type TcpProxy } from '../../../packages/client/test/integration/tcp-proxy'
import { testEnv } from '../../../scripts/test-env'
import { chat, MAX_TEXT } from '../src/protocol'
import { freePort, startDemoServer, stopDemoServer } from './demo-server'
import {
  authors,
  Cast,
  chip,
  errorsBesidesOutage,
  isOnline,
  lossNotices,
  members,
  type Person,
  resyncs,
  room,
  say,
  texts,
  watchResync,
} from './people'

const demo = fileURLToPath(new URL('../', import.meta.url))
const results = join(demo, 'test-results')
/** Small, so that one test can outrun it and make the server forget messages a person has not seen. */
const HISTORY_SIZE = 20
const serverFlags = ['--rooms-history-size', String(HISTORY_SIZE)]

let server: ChildProcess
let port: number
let browser: Browser
/** Bob's way to the server in the tests that take him offline. */
let link: TcpProxy
let cast: Cast

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
  server = await startDemoServer(port, serverFlags)
  link = await startTcpProxy(port)
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
  cast = new Cast(browser)
  mkdirSync(results, { recursive: true })
})

afterEach(async () => {
  link.refuse = false
  await cast.closeAll()
})

afterAll(async () => {
  await browser?.close()
  await link?.close()
  if (server) await stopDemoServer(server)
})

const direct = (roomName: string) => ({ port, room: roomName })
const throughLink = (roomName: string) => ({ port: link.port, room: roomName })

/** Save a screenshot under test-results/, and into docs/ with RW_UPDATE_SCREENSHOTS=1. */
async function screenshot(page: Page, name: string, docsName?: string): Promise<void> {
  const file = join(results, name)
  // No hover highlight where the pointer happens to rest.
  await page.mouse.move(0, 0)
  await page.screenshot({ path: file })
  if (docsName !== undefined && process.env.RW_UPDATE_SCREENSHOTS === '1')
    copyFileSync(file, join(demo, '../../docs', docsName))
}

/** Take `person` offline through the proxy: the connection dies without a close frame, new ones are refused. */
async function cut(person: Person): Promise<void> {
  link.refuse = true
  link.cut()
  await expect.poll(() => isOnline(person.page)).toBe(false)
}

/**
 * Let `person` back, and press "Reconnect now" instead of waiting out the backoff. The client's own
 * retry can reach the reopened link first (a loaded CI machine made it so): then the button is gone with
 * the banner, which is the same outcome, so a click that finds no button is no failure once online.
 */
async function reconnect(person: Person): Promise<void> {
  link.refuse = false
  await person.page
    .getByRole('button', { name: 'Reconnect now' })
    .click({ timeout: 5_000 })
    .catch(async (error: unknown) => {
      if (!(await isOnline(person.page))) throw error
    })
  await expect.poll(() => isOnline(person.page), { timeout: 15_000 }).toBe(true)
}

/** Whether the focused element, or an ancestor, is a live region (which a screen reader reads on change). */
const inLiveRegion = (page: Page, selector: string) =>
  page
    .locator(selector)
    .evaluate((el) =>
      Boolean(
        el.closest(
          '[aria-live]:not([aria-live="off"]), [role=status], [role=alert], [role=log], [role=timer], output',
        ),
      ),
    )

describe('demo chat in Chromium', () => {
  it('two people see each other, chat, and see who wrote each message, when, and that it arrived', async () => {
    const start = Date.now()
    const ada = await cast.join('Ada', direct('general'))
    const bob = await cast.join('Bob', direct('general'))
    for (const { page } of [ada, bob]) {
      await expect.poll(() => members(page, 'general').textContent()).toMatch(/Ada.*Bob|Bob.*Ada/)
      await expect.poll(() => isOnline(page)).toBe(true)
      // The member chips are a list without bullets.
      const bullet = await members(page, 'general')
        .locator('li')
        .first()
        .evaluate((li) => getComputedStyle(li).listStyleType)
      expect(bullet).toBe('none')
    }

    await room(ada.page, 'general').getByLabel('Message #general').fill('Morning Bob!')
    await expect.poll(() => room(bob.page, 'general').locator('.typing').textContent()).toBe('Ada is typing…')
    await ada.page.keyboard.press('Enter')
    await expect.poll(() => texts(bob.page, 'general')).toEqual(['Morning Bob!'])
    await expect.poll(() => room(bob.page, 'general').locator('.typing').textContent()).toBe('')
    await expect
      .poll(() => room(ada.page, 'general').locator('.message').getAttribute('data-status'))
      .toBe('delivered')
    const conversation: [Person, string][] = [
      [bob, 'Morning! The deploy went out at 9:40, and the reconnect storm is gone.'],
      [ada, 'Nice. I dropped my laptop off the network on the train and nothing was lost.'],
      [ada, 'What I wrote offline went out in order once I was back.'],
      [bob, 'That is the outbox: it keeps them until the server acks, and message ids make retries safe.'],
      [bob, 'Want to try a server restart next?'],
      [ada, 'Sure, give me five minutes.'],
    ]
    for (const [who, text] of conversation) {
      await say(who.page, 'general', text)
      // One at a time, so the screenshot shows them in the order written.
      await expect.poll(async () => (await texts(ada.page, 'general')).includes(text)).toBe(true)
    }
    await expect.poll(() => texts(bob.page, 'general')).toHaveLength(7)
    expect(await authors(bob.page, 'general')).toEqual(['Ada', 'Bob', 'Ada', 'Ada', 'Bob', 'Bob', 'Ada'])

    const times = await room(bob.page, 'general')
      .locator('.message time')
      .evaluateAll((els) => els.map((el) => Date.parse(el.getAttribute('datetime') ?? '')))
    expect(times).toHaveLength(7)
    for (const time of times) expect(time).toBeGreaterThanOrEqual(start - 1000)
    for (const time of times) expect(time).toBeLessThanOrEqual(Date.now() + 1000)

    await room(bob.page, 'general').getByLabel('Message #general').fill('Typing…')
    await expect.poll(() => room(ada.page, 'general').locator('.typing').textContent()).toBe('Bob is typing…')
    await screenshot(ada.page, 'two-people-chatting.png', 'demo.png')
    expect(ada.errors).toEqual([])
    expect(bob.errors).toEqual([])
  })

  it('serves its favicon, so the console has no 404', async () => {
    const dora = await cast.open('Dora', direct('general'))
    const href = await dora.page.locator('link[rel=icon]').getAttribute('href')
    expect(href).toBe('/favicon.svg')
    const icon = await dora.page.request.get(`http://127.0.0.1:${port}${href}`)
    expect(icon.status()).toBe(200)
    expect(icon.headers()['content-type']).toBe('image/svg+xml')
    expect(dora.errors).toEqual([])
  })

  it('names the author of every message in history, after a reload and after the author left', async () => {
    const ada = await cast.join('Ada', direct('history'))
    await say(ada.page, 'history', 'Remember me?')
    await expect
      .poll(() => room(ada.page, 'history').locator('.message').getAttribute('data-status'))
      .toBe('delivered')

    await ada.page.reload()
    await expect.poll(() => texts(ada.page, 'history')).toEqual(['Remember me?'])
    expect(await authors(ada.page, 'history')).toEqual(['Ada'])
    // Still hers after the reload: the author's uid is in the message, not just a dead connection id.
    expect(await room(ada.page, 'history').locator('.message .you').textContent()).toContain('(you)')

    await ada.context.close()
    const carol = await cast.join('Carol', direct('history'))
    await expect.poll(() => texts(carol.page, 'history')).toEqual(['Remember me?'])
    expect(await authors(carol.page, 'history')).toEqual(['Ada'])
    expect(carol.errors).toEqual([])
  })

  it('shows a new name at once in the room members, the online list and on earlier messages', async () => {
    const ada = await cast.join('Ada', direct('rename'))
    const bob = await cast.join('Bob', direct('rename'))
    await say(ada.page, 'rename', 'Before the rename')
    await expect.poll(() => texts(bob.page, 'rename')).toEqual(['Before the rename'])

    await ada.page.getByRole('button', { name: 'Rename', exact: true }).click()
    const field = ada.page.getByLabel('Display name')
    await expect.poll(() => field.evaluate((el) => el === document.activeElement)).toBe(true)
    await field.fill('Ada Lovelace')
    await field.press('Enter')

    for (const { page } of [ada, bob]) {
      await expect.poll(() => chip(page, 'rename', 'Ada Lovelace').count()).toBe(1)
      await expect.poll(() => chip(page, 'rename', 'Ada').count()).toBe(0)
      await expect.poll(() => page.locator('.people-list').textContent()).toContain('Ada Lovelace')
    }
    expect(await authors(bob.page, 'rename')).toEqual(['Ada Lovelace'])
    // Focus goes back to where the rename started.
    await expect.poll(() => ada.page.evaluate(() => document.activeElement?.textContent)).toBe('Rename')
  })

  it('refuses a name of only spaces, and says why', async () => {
    const eve = await cast.open('Eve', direct('general'))
    const field = eve.page.getByLabel('Display name')
    await expect.poll(() => field.evaluate((el) => el === document.activeElement)).toBe(true)
    await field.fill('    ')
    await field.press('Enter')
    await expect.poll(() => eve.page.getByRole('alert').textContent()).toBe('A name cannot be only spaces.')
    expect(await field.getAttribute('aria-invalid')).toBe('true')
    expect(await eve.page.getByRole('button', { name: 'Join' }).count()).toBe(1)
  })

  it('keeps a draft over the limit, disables Send and says the limit, so nothing unsendable is sent', async () => {
    const ada = await cast.join('Ada', direct('limit'))
    const box = room(ada.page, 'limit').getByLabel('Message #limit')
    const send = room(ada.page, 'limit').getByRole('button', { name: 'Send' })
    const draft = 'x'.repeat(5000)
    await box.fill(draft)
    expect(await send.isDisabled()).toBe(true)
    expect(await room(ada.page, 'limit').locator('.limit').textContent()).toBe(
      `Too long to send: messages are at most ${MAX_TEXT.toLocaleString('en')} characters.`,
    )
    expect(await room(ada.page, 'limit').locator('.counter').textContent()).toBe(
      `5,000 / ${MAX_TEXT.toLocaleString('en')}`,
    )
    expect(await box.getAttribute('aria-invalid')).toBe('true')
    await box.press('Enter')
    expect(await box.inputValue()).toBe(draft)
    expect(await room(ada.page, 'limit').locator('.message').count()).toBe(0)

    await box.fill('x'.repeat(MAX_TEXT))
    expect(await send.isEnabled()).toBe(true)
    await send.click()
    await expect
      .poll(() => room(ada.page, 'limit').locator('.message').getAttribute('data-status'))
      .toBe('delivered')
    expect(await box.inputValue()).toBe('')
  })

  it('collapses a long message behind "Show more"', async () => {
    const ada = await cast.join('Ada', direct('long'))
    const bob = await cast.join('Bob', direct('long'))
    const long = Array.from({ length: 30 }, (_, i) => `Line ${i + 1} of a long paste.`).join('\n')
    await say(ada.page, 'long', long)
    const text = room(bob.page, 'long').locator('.message .text')
    await expect.poll(() => text.textContent()).toBe(long)
    const more = room(bob.page, 'long').getByRole('button', { name: 'Show more' })
    expect(await more.getAttribute('aria-expanded')).toBe('false')
    const collapsed = await text.evaluate((el) => ({ shown: el.clientHeight, full: el.scrollHeight }))
    expect(collapsed.shown).toBeLessThan(collapsed.full / 2)
    await more.click()
    const expanded = await text.evaluate((el) => el.clientHeight)
    expect(expanded).toBeGreaterThanOrEqual(collapsed.full)
    expect(
      await room(bob.page, 'long').getByRole('button', { name: 'Show less' }).getAttribute('aria-expanded'),
    ).toBe('true')
  })

  it('shows the others offline while disconnected, and delivers everything once, in order, without a loss warning', async () => {
    const ada = await cast.join('Ada', direct('offline'))
    const bob = await cast.join('Bob', throughLink('offline'))
    await expect.poll(() => chip(bob.page, 'offline', 'Ada').getAttribute('data-online')).toBe('true')
    await say(ada.page, 'offline', 'Hi Bob!')
    await expect.poll(() => texts(bob.page, 'offline')).toEqual(['Hi Bob!'])
    await watchResync(bob.page, 'offline')

    await cut(bob)
    // Bob cannot tell who is still there: Ada is shown offline, not removed; Ada sees Bob gone offline.
    await expect.poll(() => chip(bob.page, 'offline', 'Ada').textContent()).toBe('Ada offline')
    await expect.poll(() => chip(ada.page, 'offline', 'Bob').textContent()).toBe('Bob offline')
    await expect
      .poll(() => bob.page.getByRole('status').filter({ hasText: 'Connection lost' }).count())
      .toBe(1)
    // The countdown ticks every second, so it is outside every live region.
    await expect
      .poll(() => bob.page.locator('[data-countdown]').textContent())
      .toMatch(/Retrying in \d+ s|Trying/)
    expect(await inLiveRegion(bob.page, '[data-countdown]')).toBe(false)

    await say(bob.page, 'offline', 'Written while offline')
    await expect
      .poll(() => room(bob.page, 'offline').locator('.message.mine .delivery').textContent())
      .toBe('Waiting for connection')
    for (const text of ['Are you there?', 'I will keep writing', 'until you are back'])
      await say(ada.page, 'offline', text)
    await expect
      .poll(() => room(ada.page, 'offline').locator('.message[data-status=delivered]').count())
      .toBe(4)
    expect(await texts(bob.page, 'offline')).toEqual(['Hi Bob!', 'Written while offline'])

    await reconnect(bob)
    await expect
      .poll(() => texts(bob.page, 'offline'))
      .toEqual([
        'Hi Bob!',
        'Are you there?',
        'I will keep writing',
        'until you are back',
        'Written while offline',
      ])
    await expect.poll(() => texts(ada.page, 'offline')).toContain('Written while offline')
    expect((await texts(ada.page, 'offline')).filter((t) => t === 'Written while offline')).toHaveLength(1)
    await expect.poll(() => chip(bob.page, 'offline', 'Ada').textContent()).toBe('Ada')
    await expect.poll(() => chip(ada.page, 'offline', 'Bob').textContent()).toBe('Bob')
    // Everything was replayed (`recovered: true`): no resync, so no warning.
    expect(await resyncs(bob.page, 'offline')).toEqual([])
    expect(await lossNotices(bob.page, 'offline').count()).toBe(0)
    expect(errorsBesidesOutage(bob)).toEqual([])
  })

  it('warns that messages may be lost only in the room whose history no longer covers the time away', async () => {
    const ada = await cast.join('Ada', direct('kept'))
    await ada.page.getByLabel('Create a room').fill('overrun')
    await ada.page.getByLabel('Create a room').press('Enter')
    await room(ada.page, 'overrun').getByLabel('Message #overrun').waitFor()
    const bob = await cast.join('Bob', throughLink('kept'))
    // Ada's room is in Bob's list (the server's, by `listRooms`).
    await bob.page.getByRole('button', { name: 'overrun, 1 person here' }).click()
    await expect.poll(() => members(bob.page, 'overrun').textContent()).toMatch(/Ada/)
    await watchResync(bob.page, 'kept')
    await watchResync(bob.page, 'overrun')
    await say(ada.page, 'overrun', 'Before Bob left')
    await expect.poll(() => texts(bob.page, 'overrun')).toEqual(['Before Bob left'])

    await cut(bob)
    const overrun = Array.from({ length: HISTORY_SIZE + 5 }, (_, i) => `overrun ${i + 1}`)
    for (const text of overrun) await say(ada.page, 'overrun', text)
    await ada.page.getByRole('button', { name: /^kept,/ }).click()
    await say(ada.page, 'kept', 'kept 1')
    await expect.poll(() => room(ada.page, 'kept').locator('.message[data-status=delivered]').count()).toBe(1)
    await expect
      .poll(() => room(ada.page, 'overrun').locator('.message[data-status=delivered]').count())
      .toBe(overrun.length + 1)

    await reconnect(bob)
    await expect.poll(() => texts(bob.page, 'kept')).toEqual(['kept 1'])
    // The server kept only the last HISTORY_SIZE: Bob gets those, in order, and a warning for the rest.
    const kept = overrun.slice(-HISTORY_SIZE)
    await expect.poll(() => texts(bob.page, 'overrun')).toEqual(['Before Bob left', ...kept])
    // The list marks where: after what Bob had, before what the server still had.
    const order = await room(bob.page, 'overrun')
      .locator('.messages > li')
      .evaluateAll((items) => items.map((li) => li.querySelector('.text')?.textContent ?? li.textContent))
    expect(order).toEqual(['Before Bob left', 'Messages may be missing here', ...kept])
    expect(await resyncs(bob.page, 'overrun')).toEqual(['not_recovered'])
    expect(await resyncs(bob.page, 'kept')).toEqual([])
    await expect.poll(() => lossNotices(bob.page, 'overrun').count()).toBe(1)
    expect(await lossNotices(bob.page, 'kept').count()).toBe(0)
    expect(errorsBesidesOutage(bob)).toEqual([])
  })

  it("lists the rooms with the server's head counts, and refuses a taken name with a way into that room", async () => {
    // A script with no lobby and no presence: only the server's own count (`listRooms`) sees it.
    const script = createClient({ url: `ws://127.0.0.1:${port}/ws`, protocol: chat })
    try {
      await script.join('counted').ready
      const ada = await cast.join('Ada', direct('counted'))
      const cid = await cast.join('Cid', direct('elsewhere'))
      await expect
        .poll(() => cid.page.getByRole('button', { name: 'counted, 2 people here' }).count())
        .toBe(1)
      // The same answer the list is drawn from, asked for from the page's client.
      const listed = await cid.page.evaluate(() =>
        (window as unknown as { roomwire: { request(name: string): Promise<unknown> } }).roomwire.request(
          'listRooms',
        ),
      )
      expect(listed).toMatchObject({ rooms: expect.arrayContaining([{ name: 'counted', people: 2 }]) })

      const field = cid.page.getByLabel('Create a room')
      await field.fill('counted')
      await field.press('Enter')
      const alert = cid.page.locator('form.new-room [role=alert]')
      await expect
        .poll(() => alert.textContent())
        .toBe("That name is taken: #counted is someone's room already.")
      expect(await field.getAttribute('aria-invalid')).toBe('true')
      expect(await room(cid.page, 'counted').count()).toBe(0)
      await cid.page.getByRole('button', { name: 'Open #counted' }).click()
      await room(cid.page, 'counted').getByLabel('Message #counted').waitFor()
      await expect
        .poll(() => ada.page.getByRole('button', { name: /^counted, 3 people here$/ }).count())
        .toBe(1)

      await field.fill('#brand-new')
      await field.press('Enter')
      await room(cid.page, 'brand-new').getByLabel('Message #brand-new').waitFor()
      expect(await alert.textContent()).toBe('')
      await expect
        .poll(() => ada.page.getByRole('button', { name: 'brand-new, 1 person here' }).count())
        .toBe(1)
      expect(ada.errors).toEqual([])
      expect(cid.errors).toEqual([])
    } finally {
      script.close()
    }
  })

  it('marks unread messages per room, with a "New" divider, and shows an empty room as one', async () => {
    const bob = await cast.join('Bob', direct('quiet'))
    await expect
      .poll(() => room(bob.page, 'quiet').getByText('This is the start of #quiet').isVisible())
      .toBe(true)
    await bob.page.getByLabel('Create a room').fill('busy')
    await bob.page.getByLabel('Create a room').press('Enter')
    await room(bob.page, 'busy').getByLabel('Message #busy').waitFor()
    await bob.page.getByRole('button', { name: /^quiet,/ }).click()

    const ada = await cast.join('Ada', direct('busy'))
    await say(ada.page, 'busy', 'One')
    await say(ada.page, 'busy', 'Two')
    const busy = bob.page.getByRole('button', { name: /^busy,/ })
    await expect.poll(() => busy.getAttribute('aria-label')).toBe('busy, 2 unread, 2 people here')
    expect(await busy.locator('.unread').textContent()).toBe('2')
    await busy.click()
    await expect
      .poll(() => room(bob.page, 'busy').getByRole('listitem', { name: 'New messages' }).count())
      .toBe(1)
    await expect.poll(() => busy.getAttribute('aria-label')).toBe('busy, 2 people here')
    const order = await room(bob.page, 'busy')
      .locator('.messages > li')
      .evaluateAll((items) =>
        items.map((li) =>
          li.classList.contains('divider') ? 'New' : li.querySelector('.text')?.textContent,
        ),
      )
    expect(order).toEqual(['New', 'One', 'Two'])
  })

  it('puts focus in the name field, then in the composer, and moves through the page in reading order', async () => {
    const fay = await cast.open('Fay', direct('focus'))
    const focused = () =>
      fay.page.evaluate(() => {
        const el = document.activeElement as HTMLInputElement | null
        return el?.getAttribute('aria-label') ?? el?.labels?.[0]?.textContent ?? el?.textContent?.trim() ?? ''
      })
    expect(await focused()).toBe('Display name')
    await fay.page.keyboard.type('Fay')
    await fay.page.keyboard.press('Enter')
    await expect.poll(focused).toBe('Message #focus')
    // The room count is explained in words.
    await expect.poll(() => fay.page.getByRole('button', { name: /^focus, 1 person here$/ }).count()).toBe(1)

    await fay.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
    const order: string[] = []
    for (let i = 0; i < 30 && order.at(-1) !== 'Message #focus'; i++) {
      await fay.page.keyboard.press('Tab')
      // Past the last element, focus leaves the page for a step.
      if (await fay.page.evaluate(() => document.activeElement === document.body)) continue
      const name = await focused()
      const box = await fay.page.evaluate(() => document.activeElement?.getBoundingClientRect().toJSON())
      // Nothing hidden takes the focus (the phone's drawer buttons, rooms not on screen).
      expect(box?.width, `"${name}" is focused but not shown`).toBeGreaterThan(0)
      order.push(name)
    }
    const at = (pattern: RegExp) => order.findIndex((name) => pattern.test(name))
    const steps = [
      /^general,/,
      /^focus,/,
      /^Leave #focus$/,
      /^Create a room$/,
      /^Rename$/,
      /^Messages in #focus$/,
      /^Message #focus$/,
    ]
    const indexes = steps.map(at)
    expect(
      indexes.every((i) => i >= 0),
      `focus order: ${order.join(' → ')}`,
    ).toBe(true)
    expect(indexes, `focus order: ${order.join(' → ')}`).toEqual([...indexes].sort((a, b) => a - b))
    expect(fay.errors).toEqual([])
  })

  it('works on a 375 × 667 phone: a tall message area, no sideways scroll, rooms in a drawer', async () => {
    const gus = await cast.join('Gus', direct('phone'))
    const hal = await cast.join('Hal', { ...direct('phone'), viewport: { width: 375, height: 667 } })
    for (const text of ['Are you on the train?', 'Yes, on my phone. The layout holds up.']) {
      await say(gus.page, 'phone', text)
    }
    await expect.poll(() => texts(hal.page, 'phone')).toHaveLength(2)
    await say(hal.page, 'phone', 'Typing on a phone keyboard is slow but it works.')
    await expect.poll(() => texts(gus.page, 'phone')).toHaveLength(3)

    const scroller = await room(hal.page, 'phone').getByRole('log').boundingBox()
    expect(scroller?.height).toBeGreaterThan(667 / 2)
    const composer = await room(hal.page, 'phone').getByLabel('Message #phone').boundingBox()
    expect((composer?.y ?? 0) + (composer?.height ?? 0)).toBeLessThanOrEqual(667)
    expect(await hal.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375)

    const rooms = hal.page.getByRole('navigation', { name: 'Rooms' })
    expect(await rooms.isVisible()).toBe(false)
    await screenshot(hal.page, 'phone.png', 'demo-phone.png')
    await room(hal.page, 'phone').getByRole('button', { name: 'Rooms and people' }).click()
    await expect.poll(() => rooms.isVisible()).toBe(true)
    await hal.page.keyboard.press('Escape')
    await expect.poll(() => rooms.isVisible()).toBe(false)
    expect(hal.errors).toEqual([])
  })

  it('after a server restart, whoever comes back later sees every message once, in order, and a loss warning only if the room resynced', async () => {
    const ada = await cast.join('Ada', direct('restart'))
    const bob = await cast.join('Bob', throughLink('restart'))
    await say(ada.page, 'restart', 'Before the restart')
    await say(bob.page, 'restart', 'Me too')
    await expect.poll(() => texts(ada.page, 'restart')).toEqual(['Before the restart', 'Me too'])
    await watchResync(ada.page, 'restart')
    await watchResync(bob.page, 'restart')

    // A graceful restart (SIGTERM); Bob's link stays refused while Ada is back and writes.
    await stopDemoServer(server)
    link.refuse = true
    for (const { page } of [ada, bob]) await expect.poll(() => isOnline(page)).toBe(false)
    await expect.poll(() => chip(ada.page, 'restart', 'Bob').textContent()).toBe('Bob offline')
    server = await startDemoServer(port, serverFlags)
    await expect.poll(() => isOnline(ada.page), { timeout: 40_000 }).toBe(true)
    await say(ada.page, 'restart', 'After the restart')
    await say(ada.page, 'restart', 'Bob, you missed this')
    await expect
      .poll(() => room(ada.page, 'restart').locator('.message[data-status=delivered]').count(), {
        timeout: 15_000,
      })
      .toBe(3)
    expect(await isOnline(bob.page)).toBe(false)

    await reconnect(bob)
    const all = ['Before the restart', 'Me too', 'After the restart', 'Bob, you missed this']
    await expect.poll(() => texts(bob.page, 'restart')).toEqual(all)
    expect(await texts(ada.page, 'restart')).toEqual(all)
    // The demo server runs with a state file, as `pnpm start` does: a graceful restart keeps the room's
    // epoch, so nobody was told to resync and no loss warning shows; the warning follows the room's
    // resync events exactly (PROTOCOL.md).
    for (const person of [ada, bob]) {
      const seen = await resyncs(person.page, 'restart')
      expect(seen).toEqual([])
      await expect.poll(() => lossNotices(person.page, 'restart').count()).toBe(seen.length > 0 ? 1 : 0)
      expect(errorsBesidesOutage(person)).toEqual([])
    }
    // And the history from before the restart is still the server's: a page loaded now replays it.
    await bob.page.reload()
    await expect.poll(() => texts(bob.page, 'restart')).toEqual(all)
  })
})
