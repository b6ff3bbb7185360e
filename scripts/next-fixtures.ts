/**
 * A Next.js app-router app as a user writes it (issue #15), for `pack-check.ts`: the root layout is a server
 * component; the protocol (functions and schema objects, which React cannot pass from a server component
 * to a client one) reaches `RoomwireProvider` through a `'use client'` wrapper module, and the layout hands
 * that wrapper only the URL, a plain string. `e2e.mjs` starts a roomwire server and `next start`, loads the
 * page in Chromium, and waits for the hydrated page to join a room over a real socket.
 */

export const NEXT_VERSION = '16.4.6'

export const NEXT_FIXTURES: Record<string, string> = {
  'next.config.mjs': `export default { reactStrictMode: true }\n`,
  'tsconfig.json': JSON.stringify(
    {
      compilerOptions: {
        target: 'es2022',
        lib: ['dom', 'dom.iterable', 'esnext'],
        allowJs: true,
        strict: true,
        // Next's own .d.ts files need it (the roomwire types are checked without it by the main project).
        skipLibCheck: true,
        noEmit: true,
        module: 'esnext',
        moduleResolution: 'bundler',
        jsx: 'react-jsx',
        isolatedModules: true,
        esModuleInterop: true,
        resolveJsonModule: true,
        incremental: false,
        plugins: [{ name: 'next' }],
      },
      include: [
        'next-env.d.ts',
        'app/**/*.ts',
        'app/**/*.tsx',
        '.next/types/**/*.ts',
        '.next/dev/types/**/*.ts',
      ],
      exclude: ['node_modules'],
    },
    null,
    2,
  ),
  'app/protocol.ts': `import { defineProtocol } from '@roomwire/protocol'
import * as z from 'zod'

export const chat = defineProtocol({
  events: { chat: z.object({ text: z.string() }) },
  presence: z.object({ name: z.string() }),
})
export type Chat = typeof chat
`,
  // The wrapper the README documents: a client module owns the protocol.
  'app/roomwire.tsx': `'use client'
import { RoomwireProvider } from '@roomwire/react'
import type { ReactNode } from 'react'
import { chat } from './protocol'

export function Roomwire({ url, children }: { url: string; children: ReactNode }) {
  return (
    <RoomwireProvider url={url} options={{ protocol: chat }}>
      {children}
    </RoomwireProvider>
  )
}
`,
  'app/layout.tsx': `import type { ReactNode } from 'react'
import { Roomwire } from './roomwire'

export const dynamic = 'force-dynamic'

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <Roomwire url={process.env.ROOMWIRE_URL ?? 'ws://127.0.0.1:8080/ws'}>{children}</Roomwire>
      </body>
    </html>
  )
}
`,
  'app/page.tsx': `import { Room } from './room'

export default function Page() {
  return (
    <main>
      <h1>roomwire on Next.js</h1>
      <Room name="general" />
    </main>
  )
}
`,
  'app/room.tsx': `'use client'
import { useConnectionStatus, useRoom } from '@roomwire/react'
import type { Chat } from './protocol'

export function Room({ name }: { name: string }) {
  const connection = useConnectionStatus((s) => s.status)
  const { status, members, publish } = useRoom<Chat>(name, { presence: { name: 'Ada' } })
  return (
    <p id="room" data-connection={connection} data-room={status} data-members={members.length}>
      {name}: {status}, {members.length} here
      <button type="button" onClick={() => void publish('chat', { text: 'hi' })}>Say hi</button>
    </p>
  )
}
`,
  'e2e.mjs': `import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createRoomServer } from '@roomwire/server'
import { chromium } from 'playwright-core'

const fail = (why) => { console.error(why); process.exit(1) }
const timer = setTimeout(() => fail('no hydrated page within 60 s'), 60_000)
const freePort = () => new Promise((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
})

const rooms = createRoomServer({ port: 0, host: '127.0.0.1', logLevel: 'silent' })
await rooms.ready
const port = await freePort()
const next = spawn(process.execPath, ['node_modules/next/dist/bin/next', 'start', '-p', String(port), '-H', '127.0.0.1'], {
  env: { ...process.env, ROOMWIRE_URL: 'ws://127.0.0.1:' + rooms.address().port + '/ws' },
  stdio: ['ignore', 'pipe', 'inherit'],
  // Its own group: next start runs the server in a child process, which must stop with it.
  detached: true,
})
await new Promise((resolve) => next.stdout.on('data', (d) => { if (String(d).includes('Ready')) resolve() }))

const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'roomwire-next-')), {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
})
try {
  const page = browser.pages()[0] ?? (await browser.newPage())
  const errors = []
  page.on('pageerror', (e) => errors.push(e.message))
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text()) })
  // The app has no favicon; any other failed load is an error.
  page.on('response', (r) => { if (r.status() >= 400 && !r.url().endsWith('/favicon.ico')) errors.push(r.status() + ' ' + r.url()) })
  const response = await page.goto('http://127.0.0.1:' + port + '/')
  if (response?.status() !== 200) fail('GET / answered ' + response?.status())
  // Rendered on the server: the room is there before any script ran, as the server snapshot says.
  const html = await response.text()
  if (!html.includes('id="room"') || !html.includes('data-connection="connecting"')) fail('server HTML: ' + html.slice(0, 500))
  // Hydrated: the provider connected after mount, and the room was joined over the socket.
  await page.waitForSelector('#room[data-connection="open"][data-room="joined"][data-members="1"]', { timeout: 30_000 })
  if ((await rooms.roomInfo('general'))?.memberCount !== 1) fail('the server does not see the member')
  if (errors.length > 0) fail('errors in the page: ' + errors.join('; '))
  console.log('next ok: rendered on the server, hydrated, joined')
} finally {
  await browser.close()
  process.kill(-next.pid, 'SIGTERM')
  await rooms.close()
  clearTimeout(timer)
}
`,
}
