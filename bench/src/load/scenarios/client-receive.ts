import { io } from 'socket.io-client'
import { WebSocket } from 'ws'
import type { BenchPayload } from '../load-connection'
import { type ScenarioContext, until } from '../scenario-context'

/** Client-receive parameters. */
export interface ClientReceiveParams {
  messages: number
  timeoutMs: number
}

const ROOM = 'client-bench'

/**
 * One client alone in a room while the server pushes `messages` to it as fast as the socket takes them:
 * how many messages per second the client library parses and hands to an application handler. The
 * roomwire SDK and the bare-`ws` baseline are fed by the raw `ws` peer (which speaks roomwire's JSON),
 * so the server costs nothing that differs between them; Socket.IO's client by Socket.IO's server.
 */
export async function runClientReceive(ctx: ScenarioContext, p: ClientReceiveParams) {
  let count = 0
  let first = 0
  let last = 0
  let checksum = 0
  const handler = (data: BenchPayload): void => {
    if (count === 0) first = performance.now()
    count++
    last = performance.now()
    checksum += data.i
  }
  let close: () => void
  if (ctx.impl === 'roomwire') {
    const { createClient } = await import('@roomwire/client')
    const client = createClient({ url: `ws://127.0.0.1:${ctx.port}/ws` })
    const room = client.join(ROOM)
    room.on('tick', (data) => handler(data as BenchPayload))
    await room.ready
    close = () => client.close()
  } else if (ctx.impl === 'ws') {
    const ws = new WebSocket(`ws://127.0.0.1:${ctx.port}/ws`, 'roomwire.v1', { perMessageDeflate: false })
    // What a hand-written client does with every frame: parse it, route it by type and event.
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (raw: Buffer) => {
        const msg = JSON.parse(raw.toString()) as { type: string; event?: string; data?: unknown }
        if (msg.type === 'message' && msg.event === 'tick') handler(msg.data as BenchPayload)
        else if (msg.type === 'welcome') ws.send(JSON.stringify({ type: 'join', room: ROOM, ref: 1 }))
        else if (msg.type === 'joined') resolve()
      })
      ws.once('error', reject)
    })
    close = () => ws.terminate()
  } else {
    const socket = io(`http://127.0.0.1:${ctx.port}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    })
    socket.on('message', (m: { event: string; data: BenchPayload }) => {
      if (m.event === 'tick') handler(m.data)
    })
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve)
      socket.once('connect_error', reject)
    })
    await socket.emitWithAck('join', ROOM)
    close = () => socket.disconnect()
  }
  const blasted = ctx.control('blast', { room: ROOM, count: p.messages })
  await until(() => count >= p.messages, p.timeoutMs, 'client receive')
  await blasted
  close()
  const expected = (p.messages * (p.messages - 1)) / 2
  if (checksum !== expected) throw new Error(`client receive: checksum ${checksum}, expected ${expected}`)
  return { messagesPerSec: ((count - 1) * 1000) / (last - first) }
}
