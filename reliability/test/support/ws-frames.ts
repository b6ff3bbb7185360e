import { randomBytes } from 'node:crypto'
import net from 'node:net'

/** WebSocket opcodes (RFC 6455 §5.2). */
export const Opcode = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const

/** One frame to write by hand: every bit the attacker controls. */
export interface FrameSpec {
  opcode: number
  payload?: Buffer | string
  /** @default true */
  fin?: boolean
  /** Compressed (permessage-deflate) bit. @default false */
  rsv1?: boolean
  /** Client frames must be masked; false sends an illegal unmasked one. @default true */
  mask?: boolean
  /** Claim this payload length in the header instead of the real one (for oversize headers). */
  claimedLength?: number
}

/** Encode a frame as a client would put it on the wire. */
export function encodeFrame(spec: FrameSpec): Buffer {
  const payload =
    typeof spec.payload === 'string' ? Buffer.from(spec.payload) : (spec.payload ?? Buffer.alloc(0))
  const length = spec.claimedLength ?? payload.length
  const mask = spec.mask ?? true
  const head: number[] = [((spec.fin ?? true) ? 0x80 : 0) | (spec.rsv1 === true ? 0x40 : 0) | spec.opcode]
  const maskBit = mask ? 0x80 : 0
  if (length < 126) head.push(maskBit | length)
  else if (length < 65_536) head.push(maskBit | 126, length >> 8, length & 0xff)
  else {
    head.push(maskBit | 127)
    const big = Buffer.alloc(8)
    big.writeBigUInt64BE(BigInt(length))
    head.push(...big)
  }
  if (!mask) return Buffer.concat([Buffer.from(head), payload])
  const key = randomBytes(4)
  const body = Buffer.alloc(payload.length)
  for (let i = 0; i < payload.length; i++) body[i] = payload[i]! ^ key[i & 3]!
  return Buffer.concat([Buffer.from(head), key, body])
}

/** A frame the server sent (servers never mask). */
export interface ServerFrame {
  fin: boolean
  opcode: number
  payload: Buffer
}

/**
 * Parse as many whole frames as `buffer` holds; returns them and the unparsed rest. Handles masked frames
 * too, so the chaos proxy can read what clients send.
 */
export function parseFrames(buffer: Buffer): { frames: ServerFrame[]; rest: Buffer } {
  const frames: ServerFrame[] = []
  let offset = 0
  for (;;) {
    if (buffer.length - offset < 2) break
    const b0 = buffer[offset]!
    const b1 = buffer[offset + 1]!
    let length = b1 & 0x7f
    let pos = offset + 2
    if (length === 126) {
      if (buffer.length < pos + 2) break
      length = buffer.readUInt16BE(pos)
      pos += 2
    } else if (length === 127) {
      if (buffer.length < pos + 8) break
      length = Number(buffer.readBigUInt64BE(pos))
      pos += 8
    }
    const masked = (b1 & 0x80) !== 0
    const key = masked ? buffer.subarray(pos, pos + 4) : undefined
    if (masked) pos += 4
    if (buffer.length < pos + length) break
    let payload = Buffer.from(buffer.subarray(pos, pos + length))
    if (key !== undefined) {
      payload = Buffer.from(payload.map((byte, i) => byte ^ key[i & 3]!))
    }
    frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload })
    offset = pos + length
  }
  return { frames, rest: buffer.subarray(offset) }
}

/** A raw TCP socket that completed a WebSocket upgrade by hand. */
export interface RawWebSocket {
  readonly socket: net.Socket
  /** The response head (status line and headers). */
  readonly head: string
  /** Text payloads received, parsed as JSON when they are. */
  readonly texts: unknown[]
  /** Resolves with the close code the server sent, or 1006 when the TCP connection ended without one. */
  readonly closed: Promise<{ code: number; reason: string }>
  /** Total bytes received after the handshake. */
  readonly bytesReceived: number
  write(frame: Buffer | Buffer[]): void
  /** Resolves when a text message satisfies `predicate`. */
  waitFor(predicate: (message: unknown) => boolean, timeoutMs?: number): Promise<unknown>
  destroy(): void
}

export interface RawUpgradeOptions {
  path?: string
  /** Extra request headers, written verbatim in this order (duplicates allowed). */
  headers?: [string, string][]
  /** `Sec-WebSocket-Protocol`; null offers none. @default 'roomwire.v1' */
  protocol?: string | null
  /** Parse incoming frames (off for sockets that only hold a connection). @default true */
  parse?: boolean
  /** Upgrade request must answer 101 within this long. @default 5000 */
  timeoutMs?: number
}

/** Open a TCP connection and perform the WebSocket handshake by hand; rejects on a non-101 answer. */
export function rawUpgrade(port: number, options: RawUpgradeOptions = {}): Promise<RawWebSocket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    const lines = [
      `GET ${options.path ?? '/ws'} HTTP/1.1`,
      `Host: 127.0.0.1:${port}`,
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      'Sec-WebSocket-Version: 13',
    ]
    const protocol = options.protocol === undefined ? 'roomwire.v1' : options.protocol
    if (protocol !== null) lines.push(`Sec-WebSocket-Protocol: ${protocol}`)
    for (const [name, value] of options.headers ?? []) lines.push(`${name}: ${value}`)
    socket.write(`${lines.join('\r\n')}\r\n\r\n`)
    const parse = options.parse ?? true
    let pending: Buffer = Buffer.alloc(0)
    let head: string | undefined
    let bytesReceived = 0
    let closeFrame: { code: number; reason: string } | undefined
    const texts: unknown[] = []
    const waiters = new Set<{ predicate: (m: unknown) => boolean; resolve: (m: unknown) => void }>()
    let onClosed!: (value: { code: number; reason: string }) => void
    const closed = new Promise<{ code: number; reason: string }>((r) => {
      onClosed = r
    })
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error('no upgrade answer in time'))
    }, options.timeoutMs ?? 5000)
    socket.on('error', () => {})
    socket.on('close', () => {
      clearTimeout(timer)
      if (head === undefined)
        reject(new Error(`closed before the upgrade answered: ${pending.toString('latin1')}`))
      onClosed(closeFrame ?? { code: 1006, reason: '' })
    })
    const onFrames = () => {
      const { frames, rest } = parseFrames(pending)
      pending = Buffer.from(rest)
      for (const frame of frames) {
        if (frame.opcode === Opcode.close) {
          const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005
          closeFrame ??= { code, reason: frame.payload.subarray(2).toString() }
        } else if (frame.opcode === Opcode.text) {
          let message: unknown
          try {
            message = JSON.parse(frame.payload.toString())
          } catch {
            message = frame.payload.toString()
          }
          texts.push(message)
          for (const waiter of waiters) {
            if (waiter.predicate(message)) {
              waiters.delete(waiter)
              waiter.resolve(message)
            }
          }
        }
      }
    }
    socket.on('data', (chunk: Buffer) => {
      if (head !== undefined) {
        bytesReceived += chunk.length
        if (!parse) return
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
        onFrames()
        return
      }
      pending = Buffer.concat([pending, chunk])
      const end = pending.indexOf('\r\n\r\n')
      if (end === -1) return
      head = pending.subarray(0, end).toString('latin1')
      pending = Buffer.from(pending.subarray(end + 4))
      clearTimeout(timer)
      if (!head.startsWith('HTTP/1.1 101')) {
        socket.destroy()
        reject(new Error(head.split('\r\n')[0]))
        return
      }
      bytesReceived += pending.length
      if (parse) onFrames()
      else pending = Buffer.alloc(0)
      resolve(raw)
    })
    const raw: RawWebSocket = {
      socket,
      get head() {
        return head ?? ''
      },
      texts,
      closed,
      get bytesReceived() {
        return bytesReceived
      },
      write(frame) {
        if (socket.destroyed) return
        if (Array.isArray(frame)) for (const f of frame) socket.write(f)
        else socket.write(frame)
      },
      waitFor(predicate, timeoutMs = 5000) {
        const found = texts.find(predicate)
        if (found !== undefined) return Promise.resolve(found)
        return new Promise((res, rej) => {
          const waiter = {
            predicate,
            resolve: (m: unknown) => {
              clearTimeout(t)
              res(m)
            },
          }
          const t = setTimeout(() => {
            waiters.delete(waiter)
            rej(
              new Error(`no matching frame within ${timeoutMs} ms; last: ${JSON.stringify(texts.slice(-3))}`),
            )
          }, timeoutMs)
          waiters.add(waiter)
        })
      },
      destroy() {
        socket.destroy()
      },
    }
  })
}

/**
 * Send a request by hand and resolve with the answer's status line as soon as it arrives (or 'destroyed'
 * when the socket was dropped without one, 'timeout' when nothing happened).
 */
export function rawRequest(port: number, request: string | Buffer, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let data = ''
    const done = (result: string) => {
      clearTimeout(timer)
      socket.destroy()
      resolve(result)
    }
    const timer = setTimeout(() => done('timeout'), timeoutMs)
    socket.on('error', () => {})
    socket.on('data', (chunk: Buffer) => {
      data += chunk.toString('latin1')
      const end = data.indexOf('\r\n')
      if (end !== -1) done(data.slice(0, end))
    })
    socket.on('close', () => done(data === '' ? 'destroyed' : data))
    socket.write(request)
  })
}
