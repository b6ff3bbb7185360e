import type { Client } from '@roomwire/client'
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core'

/** One person at one browser: its own context (storage, cookies), one page, and what went wrong on it. */
export interface Person {
  name: string
  context: BrowserContext
  page: Page
  /** Console errors, uncaught exceptions and HTTP responses of 400 and above. */
  errors: string[]
}

export interface PersonOptions {
  /** The port the page and its WebSocket go through (a proxy the test can cut). */
  port: number
  /** The room the page opens (`/#room`) and shows. */
  room: string
  viewport?: { width: number; height: number }
}

/** The people of one test file: every context is closed by {@link closeAll}. */
export class Cast {
  readonly #browser: Browser
  readonly #people: Person[] = []

  constructor(browser: Browser) {
    this.#browser = browser
  }

  /** Open the demo on `room` and join as `name`. */
  async join(name: string, options: PersonOptions): Promise<Person> {
    const person = await this.open(name, options)
    await person.page.getByLabel('Display name').fill(name)
    await person.page.getByRole('button', { name: 'Join' }).click()
    await room(person.page, options.room).getByLabel(`Message #${options.room}`).waitFor()
    return person
  }

  /** Open the demo's welcome page without joining. */
  async open(name: string, { port, room, viewport }: PersonOptions): Promise<Person> {
    const context = await this.#browser.newContext({ viewport: viewport ?? { width: 1200, height: 760 } })
    const page = await context.newPage()
    const person: Person = { name, context, page, errors: [] }
    page.on('console', (message) => {
      if (message.type() === 'error') person.errors.push(message.text())
    })
    page.on('pageerror', (error) => person.errors.push(error.message))
    page.on('response', (response) => {
      if (response.status() >= 400) person.errors.push(`${response.status()} ${response.url()}`)
    })
    this.#people.push(person)
    await page.goto(`http://127.0.0.1:${port}/#${room}`)
    return person
  }

  async closeAll(): Promise<void> {
    for (const person of this.#people.splice(0)) await person.context.close().catch(() => {})
  }
}

/**
 * What went wrong on a page, without the browser's own line for each refused WebSocket attempt: a test
 * that takes the server or the link down makes those on purpose, and the app cannot silence them.
 */
export function errorsBesidesOutage(person: Person): string[] {
  return person.errors.filter((e) => !/^WebSocket connection to '.*' failed/.test(e))
}

/** A room's section, also while another room is on screen (a role locator would skip it then). */
export const room = (page: Page, name: string): Locator =>
  page.locator(`section.room[aria-label="Room ${name}"]`)

export const texts = (page: Page, name: string): Promise<string[]> =>
  room(page, name).locator('.message .text').allTextContents()

export const authors = (page: Page, name: string): Promise<string[]> =>
  room(page, name).locator('.message .author').allTextContents()

export const members = (page: Page, name: string): Locator =>
  room(page, name).getByRole('list', { name: 'Members here' })

/** The member chip of a person, by exact name ("Ada" is not "Ada Lovelace"). */
export const chip = (page: Page, roomName: string, person: string): Locator => {
  const name = person.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  return members(page, roomName)
    .getByRole('listitem')
    .filter({ hasText: new RegExp(`^${name}( \\(you\\))?( offline)?$`) })
}

export async function say(page: Page, roomName: string, text: string): Promise<void> {
  const box = room(page, roomName).getByLabel(`Message #${roomName}`)
  await box.fill(text)
  await box.press('Enter')
}

/** The connection pill in the sidebar reads `open` (it is there on a phone too, in the closed drawer). */
export const isOnline = async (page: Page): Promise<boolean> =>
  (await page.locator('.pill').getAttribute('data-status')) === 'open'

interface Watched {
  roomwire: Client
  resyncs?: Map<string, string[]>
}

/**
 * Record the room's `resync` events from outside the UI, through the client the demo puts on
 * `window.roomwire`: what the banner must match. Call it once the room is joined, so this extra
 * reference does not make the join.
 */
export async function watchResync(page: Page, roomName: string): Promise<void> {
  await page.evaluate((name) => {
    const w = window as unknown as Watched
    w.resyncs ??= new Map()
    const seen: string[] = []
    w.resyncs.set(name, seen)
    w.roomwire.join(name).on('resync', (info) => seen.push(info.reason))
  }, roomName)
}

export const resyncs = (page: Page, roomName: string): Promise<string[]> =>
  page.evaluate((name) => (window as unknown as Watched).resyncs?.get(name) ?? [], roomName)

/** The "messages may be lost" notices a room shows. */
export const lossNotices = (page: Page, roomName: string): Locator =>
  room(page, roomName).locator('[data-resync]').filter({ hasText: 'Messages may be lost' })
