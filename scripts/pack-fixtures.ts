/**
 * The files of the fresh project that `pack-check.ts` installs the tarballs into: what a user writes, in
 * each module system and resolution mode.
 */

const protocolTs = `import { defineProtocol } from '@roomwire/protocol'
import * as z from 'zod'
export const chat = defineProtocol({ events: { chat: z.object({ text: z.string() }) } })
`

/** Uses the typed API, so a package whose types resolve to \`any\` or to nothing fails the check. */
const typedUse = (from: string) => `import { createClient, RoomwireError } from '@roomwire/client'
import { RoomwireProvider, useRoom } from '@roomwire/react'
import { createRoomServer, type RoomServer } from '@roomwire/server'
import { createRedisAdapter } from '@roomwire/server/redis'
import { createTestServer, type TestServer } from '@roomwire/testing'
import { chat } from '${from}'

export const server: RoomServer = createRoomServer({ port: 0, protocol: chat })
export const adapter = createRedisAdapter({ url: 'redis://127.0.0.1:6379' })
const client = createClient({ url: 'ws://127.0.0.1:1/ws', protocol: chat })
const room = client.join('general')
room.on('chat', (data) => {
  const text: string = data.text
  void text
})
void room.publish('chat', { text: 'hi' })
// @ts-expect-error: no such event in the protocol
void room.publish('chta', { text: 'hi' })
// @ts-expect-error: text is a string
void room.publish('chat', { text: 1 })
export const components = [RoomwireProvider, useRoom, RoomwireError] as const
export async function kitTest(): Promise<TestServer<typeof chat>> {
  await using server = await createTestServer({ protocol: chat })
  await using alice = await server.connect({ user: 'alice' })
  alice.join('general')
  const message = await alice.room('general').next('chat')
  const text: string = message.data.text
  void text
  // @ts-expect-error: no such event in the protocol
  void alice.room('general').next('chta')
  return server
}
`

const compilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: false,
  target: 'es2022',
  // esnext.disposable: what `await using` a test server needs (Symbol.asyncDispose), as the testing README says.
  lib: ['es2022', 'esnext.disposable', 'dom'],
  types: ['node'],
  jsx: 'react-jsx',
}

export const PACK_FIXTURES: Record<string, string> = {
  'esm.mjs': `import * as protocol from '@roomwire/protocol'
import * as server from '@roomwire/server'
import * as redis from '@roomwire/server/redis'
import * as client from '@roomwire/client'
import * as react from '@roomwire/react'
import * as testing from '@roomwire/testing'
for (const [name, fn] of [['defineProtocol', protocol.defineProtocol], ['createRoomServer', server.createRoomServer],
  ['createRedisAdapter', redis.createRedisAdapter], ['createClient', client.createClient], ['useRoom', react.useRoom],
  ['createTestServer', testing.createTestServer]]) {
  if (typeof fn !== 'function') throw new Error(name + ' is not a function in the ESM build')
}
`,
  'cjs.cjs': `const protocol = require('@roomwire/protocol')
const server = require('@roomwire/server')
const redis = require('@roomwire/server/redis')
const client = require('@roomwire/client')
const react = require('@roomwire/react')
const testing = require('@roomwire/testing')
for (const [name, fn] of [['defineProtocol', protocol.defineProtocol], ['createRoomServer', server.createRoomServer],
  ['createRedisAdapter', redis.createRedisAdapter], ['createClient', client.createClient], ['useRoom', react.useRoom],
  ['createTestServer', testing.createTestServer]]) {
  if (typeof fn !== 'function') throw new Error(name + ' is not a function in the CommonJS build')
}
`,
  'round-trip.mjs': `import { defineProtocol } from '@roomwire/protocol'
import { createRoomServer } from '@roomwire/server'
import { createClient } from '@roomwire/client'
import * as z from 'zod'
const chat = defineProtocol({ events: { chat: z.object({ text: z.string() }) } })
const timer = setTimeout(() => { console.error('no round trip within 15 s'); process.exit(1) }, 15_000)
const server = createRoomServer({ port: 0, host: '127.0.0.1', protocol: chat })
await server.ready
const url = 'ws://127.0.0.1:' + server.address().port + '/ws'
const ada = createClient({ url, protocol: chat })
const bob = createClient({ url, protocol: chat })
const adaRoom = ada.join('general')
const bobRoom = bob.join('general')
await Promise.all([adaRoom.ready, bobRoom.ready])
const received = new Promise((resolve) => bobRoom.on('chat', (data, meta) => resolve({ data, seq: meta.seq })))
const ack = await adaRoom.publish('chat', { text: 'hello from the tarballs' })
const got = await received
if (got.data.text !== 'hello from the tarballs' || got.seq !== ack.seq) throw new Error(JSON.stringify({ got, ack }))
ada.close()
bob.close()
await server.close()
clearTimeout(timer)
console.log('round trip ok, seq', ack.seq)
`,
  'kit.mjs': `import { defineProtocol } from '@roomwire/protocol'
import { createTestServer } from '@roomwire/testing'
import * as z from 'zod'
const chat = defineProtocol({ events: { chat: z.object({ text: z.string() }) } })
const server = await createTestServer({ protocol: chat })
const alice = await server.connect({ user: 'alice' })
const bob = await server.connect({ user: 'bob' })
await Promise.all([alice.join('general').ready, bob.join('general').ready])
await alice.room('general').handle.publish('chat', { text: 'from the kit' })
const got = await bob.room('general').next('chat')
await server.cut(bob)
await bob.waitFor('open')
await server.close()
if (got.data.text !== 'from the kit') throw new Error(JSON.stringify(got))
console.log('kit ok')
`,
  'protocol.ts': protocolTs,
  'protocol.mts': protocolTs,
  'protocol.cts': protocolTs,
  'use-bundler.ts': typedUse('./protocol'),
  'use-esm.mts': typedUse('./protocol.mjs'),
  'use-cjs.cts': typedUse('./protocol.cjs'),
  'tsconfig.bundler.json': JSON.stringify({
    compilerOptions: { ...compilerOptions, module: 'esnext', moduleResolution: 'bundler' },
    files: ['use-bundler.ts'],
  }),
  'tsconfig.nodenext.json': JSON.stringify({
    compilerOptions: { ...compilerOptions, module: 'nodenext', moduleResolution: 'nodenext' },
    files: ['use-esm.mts', 'use-cjs.cts'],
  }),
}

/** With the lowest React the react package supports: the hooks render on the server. */
export const REACT_SSR_FIXTURE = `import { createElement } from 'react'
import { renderToString } from 'react-dom/server'
import { RoomwireProvider, useConnectionStatus, useRoom } from '@roomwire/react'
function Room() {
  const status = useConnectionStatus((s) => s.status)
  const room = useRoom('general')
  return createElement('p', null, status + ' ' + room.status)
}
const html = renderToString(createElement(RoomwireProvider, { url: 'ws://127.0.0.1:1/ws' }, createElement(Room)))
if (!html.includes('connecting')) throw new Error('rendered ' + html)
console.log('react ssr ok: ' + html)
`

/** A zod 3 app (Standard Schema): its schemas validate on the server and type the client. */
export const ZOD3_FIXTURES: Record<string, string> = {
  'protocol.ts': `import { defineProtocol } from '@roomwire/protocol'
import { z } from 'zod'
export const chat = defineProtocol({ events: { chat: z.object({ text: z.string() }) } })
`,
  'use-zod3.ts': `import { createClient } from '@roomwire/client'
import { chat } from './protocol'
const room = createClient({ url: 'ws://127.0.0.1:1/ws', protocol: chat, autoConnect: false }).join('general')
room.on('chat', (data) => {
  const text: string = data.text
  void text
})
void room.publish('chat', { text: 'hi' })
// @ts-expect-error: text is a string
void room.publish('chat', { text: 1 })
`,
  'zod3.mjs': `import { defineProtocol } from '@roomwire/protocol'
import { createRoomServer } from '@roomwire/server'
import { createClient } from '@roomwire/client'
import { z } from 'zod'
const chat = defineProtocol({ events: { chat: z.object({ text: z.string() }) } })
const refused = chat.validateEvent('chat', { text: 1 })
if (refused.success || !refused.error.message.startsWith('data.text: ')) throw new Error(JSON.stringify(refused))
const timer = setTimeout(() => { console.error('no round trip within 15 s'); process.exit(1) }, 15_000)
const server = createRoomServer({ port: 0, host: '127.0.0.1', protocol: chat, logLevel: 'silent' })
await server.ready
const url = 'ws://127.0.0.1:' + server.address().port + '/ws'
const typed = createClient({ url, protocol: chat })
const untyped = createClient({ url })
const room = typed.join('general')
const other = untyped.join('general')
await Promise.all([room.ready, other.ready])
await room.publish('chat', { text: 'from zod 3' })
const error = await other.publish('chat', { text: 5 }).then(() => null, (e) => e)
if (error?.code !== 'invalid_event') throw new Error('the server took a bad payload: ' + error)
typed.close()
untyped.close()
await server.close()
clearTimeout(timer)
console.log('zod 3 ok: ' + error.message)
`,
  'tsconfig.json': JSON.stringify({
    compilerOptions: { ...compilerOptions, module: 'esnext', moduleResolution: 'bundler' },
    files: ['use-zod3.ts'],
  }),
}
