import { WebSocket } from 'ws'
import { type BenchPayload, type Connector, DOUBLE_REQUEST, type LoadConnection } from './load-connection'

const MESSAGE_MARK = Buffer.from('"type":"message"')
// A `history` page holds `message` frames too: told apart by how the frame starts.
const HISTORY_START = Buffer.from('{"type":"history"')
const T_MARK = Buffer.from('"t":')
const JOINED_MARK = Buffer.from('"type":"member_joined"')
const LEFT_MARK = Buffer.from('"type":"member_left"')

/** How a wire connection is opened. */
export interface WireOptions {
  /** Offer permessage-deflate, as every browser does (ws's client defaults otherwise). */
  deflate?: boolean
}

/** Membership frames, by type, as the server may send them (PROTOCOL.md "Server to client"). */
interface MembershipFrame {
  type: string
  members?: unknown[]
  changes?: Array<{ joined?: unknown; left?: unknown }>
  count?: number
}

/**
 * A load-generator connection speaking roomwire's JSON over a bare `ws` socket: what the raw `ws` and uWS
 * peers and roomwire's server are all driven with, so all pay the same client cost. Delivered `message`
 * frames are not parsed whole: the timestamp is read from the bytes, keeping the generator light; single
 * `member_joined` / `member_left` frames are counted the same way.
 */
export function connectWireWith(options: WireOptions = {}): Connector {
  return (port) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, 'roomwire.v1', {
        perMessageDeflate: options.deflate === true,
      })
      const pending = new Map<number, { resolve: (output: unknown) => void; reject: (e: Error) => void }>()
      let nextRef = 1
      let welcomed = false

      const conn: LoadConnection = {
        onMessage: undefined,
        membershipFrames: 0,
        memberCount: 0,
        closeCode: undefined,
        onClose: undefined,
        async join(room) {
          await call({ type: 'join', room })
        },
        publish(room, data: BenchPayload) {
          ws.send(JSON.stringify({ type: 'publish', room, event: 'tick', data }))
        },
        async request(room, data) {
          await call({ type: 'publish', room, event: 'tick', data })
        },
        async history(room, limit) {
          return (await call({ type: 'history', room, limit })) as number
        },
        async call(n) {
          const id = `r${nextRef}`
          const output = (await call({ type: 'request', name: DOUBLE_REQUEST, input: { n }, id })) as {
            n: number
          }
          return output.n
        },
        close() {
          ws.terminate()
        },
      }

      /**
       * Send `msg` with a fresh `ref`; resolves with what answered it (a reply's `output`, a history page's
       * message count, else undefined), rejects on a refusal.
       */
      function call(msg: Record<string, unknown>): Promise<unknown> {
        const ref = nextRef++
        return new Promise((res, rej) => {
          pending.set(ref, { resolve: res, reject: rej })
          ws.send(JSON.stringify({ ...msg, ref }))
        })
      }

      function membership(msg: MembershipFrame): void {
        switch (msg.type) {
          case 'joined':
          case 'members':
            conn.memberCount += msg.members?.length ?? 0
            if (typeof msg.count === 'number') conn.memberCount = msg.count
            return
          case 'member_changes':
            conn.membershipFrames++
            for (const change of msg.changes ?? []) conn.memberCount += change.joined === undefined ? -1 : 1
            return
          case 'member_count':
            conn.membershipFrames++
            if (typeof msg.count === 'number') conn.memberCount = msg.count
            return
        }
      }

      ws.on('message', (raw: Buffer) => {
        if (raw.subarray(0, HISTORY_START.length).equals(HISTORY_START)) {
          const page = JSON.parse(raw.toString()) as { ref: number; messages: unknown[] }
          const p = pending.get(page.ref)
          pending.delete(page.ref)
          p?.resolve(page.messages.length)
          return
        }
        if (raw.indexOf(MESSAGE_MARK) !== -1) {
          const at = raw.indexOf(T_MARK)
          if (at !== -1) conn.onMessage?.(Number.parseFloat(raw.toString('latin1', at + 4, at + 28)))
          return
        }
        // Counted, not parsed: filling a room of 5,000 one frame per join brings 12.5 million of them.
        if (raw.indexOf(JOINED_MARK) !== -1) {
          conn.membershipFrames++
          conn.memberCount++
          return
        }
        if (raw.indexOf(LEFT_MARK) !== -1) {
          conn.membershipFrames++
          conn.memberCount--
          return
        }
        const msg = JSON.parse(raw.toString()) as MembershipFrame & {
          ref?: number
          code?: string
          message?: string
          output?: unknown
          error?: { code: string; message: string }
        }
        if (msg.type === 'welcome' && !welcomed) {
          welcomed = true
          resolve(conn)
          return
        }
        membership(msg)
        if (msg.ref === undefined) return
        const p = pending.get(msg.ref)
        if (!p) return
        pending.delete(msg.ref)
        if (msg.type === 'error') p.reject(new Error(`${msg.code}: ${msg.message}`))
        else if (msg.error !== undefined) p.reject(new Error(`${msg.error.code}: ${msg.error.message}`))
        else p.resolve(msg.output)
      })
      ws.on('error', (error) => {
        if (!welcomed) reject(error)
      })
      ws.on('close', (code) => {
        conn.closeCode = code
        conn.onClose?.(code)
        if (!welcomed) reject(new Error(`closed with ${code} before welcome`))
        for (const p of pending.values()) p.reject(new Error(`closed with ${code}`))
        pending.clear()
      })
    })
}

/** The plain wire connection: no compression offered. */
export const connectWire: Connector = connectWireWith()
