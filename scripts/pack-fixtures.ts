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
`

const compilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: false,
  target: 'es2022',
  lib: ['es2022', 'dom'],
  types: ['node'],
  jsx: 'react-jsx',
}

export const PACK_FIXTURES: Record<string, string> = {
  'esm.mjs': `import * as protocol from '@roomwire/protocol'
import * as server from '@roomwire/server'
import * as redis from '@roomwire/server/redis'
import * as client from '@roomwire/client'
import * as react from '@roomwire/react'
for (const [name, fn] of [['defineProtocol', protocol.defineProtocol], ['createRoomServer', server.createRoomServer],
  ['createRedisAdapter', redis.createRedisAdapter], ['createClient', client.createClient], ['useRoom', react.useRoom]]) {
  if (typeof fn !== 'function') throw new Error(name + ' is not a function in the ESM build')
}
`,
  'cjs.cjs': `const protocol = require('@roomwire/protocol')
const server = require('@roomwire/server')
const redis = require('@roomwire/server/redis')
const client = require('@roomwire/client')
const react = require('@roomwire/react')
for (const [name, fn] of [['defineProtocol', protocol.defineProtocol], ['createRoomServer', server.createRoomServer],
  ['createRedisAdapter', redis.createRedisAdapter], ['createClient', client.createClient], ['useRoom', react.useRoom]]) {
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
