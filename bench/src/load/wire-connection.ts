import { WebSocket } from 'ws'
import type { BenchPayload, Connector, LoadConnection } from './load-connection'

const MESSAGE_MARK = Buffer.from('"type":"message"')
const T_MARK = Buffer.from('"t":')
const MEMBER_MARK = Buffer.from('"type":"member_')

/**
 * A load-generator connection speaking roomwire's JSON over a bare `ws` socket: what both the raw `ws`
 * peer and roomwire's server are driven with, so both pay the same client cost. Delivered `message`
 * frames are not parsed whole: the timestamp is read from the bytes, keeping the generator light.
 */
export const connectWire: Connector = (port) =>
  new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'roomwire.v1', { perMessageDeflate: false })
    const pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>()
    let nextRef = 1
    let welcomed = false

    let membershipFrames = 0
    const conn: LoadConnection = {
      onMessage: undefined,
      get membershipFrames() {
        return membershipFrames
      },
      join(room) {
        return call({ type: 'join', room })
      },
      publish(room, data: BenchPayload) {
        ws.send(JSON.stringify({ type: 'publish', room, event: 'tick', data }))
      },
      request(room, data) {
        return call({ type: 'publish', room, event: 'tick', data })
      },
      close() {
        ws.terminate()
      },
    }

    function call(msg: Record<string, unknown>): Promise<void> {
      const ref = nextRef++
      return new Promise((res, rej) => {
        pending.set(ref, { resolve: res, reject: rej })
        ws.send(JSON.stringify({ ...msg, ref }))
      })
    }

    ws.on('message', (raw: Buffer) => {
      if (raw.indexOf(MESSAGE_MARK) !== -1) {
        const at = raw.indexOf(T_MARK)
        if (at !== -1) conn.onMessage?.(Number.parseFloat(raw.toString('latin1', at + 4, at + 28)))
        return
      }
      // Counted, not parsed: filling a room of 5,000 brings 12.5 million of them.
      if (raw.indexOf(MEMBER_MARK) !== -1) {
        membershipFrames++
        return
      }
      const msg = JSON.parse(raw.toString()) as {
        type: string
        ref?: number
        code?: string
        message?: string
      }
      if (msg.type === 'welcome' && !welcomed) {
        welcomed = true
        resolve(conn)
        return
      }
      if (msg.ref === undefined) return
      const p = pending.get(msg.ref)
      if (!p) return
      pending.delete(msg.ref)
      if (msg.type === 'error') p.reject(new Error(`${msg.code}: ${msg.message}`))
      else p.resolve()
    })
    ws.on('error', (error) => {
      if (!welcomed) reject(error)
    })
    ws.on('close', (code) => {
      if (!welcomed) reject(new Error(`closed with ${code} before welcome`))
      for (const p of pending.values()) p.reject(new Error(`closed with ${code}`))
      pending.clear()
    })
  })
