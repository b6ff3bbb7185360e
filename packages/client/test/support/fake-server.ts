import { FakeWebSocket } from './fake-web-socket'

type StoredMessage = {
  type: 'message'
  room: string
  event: string
  data: unknown
  from: string
  seq: number
  ts: number
  id?: string
}

interface FakeRoom {
  seq: number
  epoch: string
  history: StoredMessage[]
  members: Map<string, { socket: FakeWebSocket; presence?: unknown }>
}

/**
 * A small in-memory roomwire server behind FakeWebSocket: welcome, join with since/epoch/history replay,
 * publish with seq and id dedupe, echo, presence, direct, leave, ping. Enough protocol to drive the
 * client's reconnect and delivery logic under fake timers; the real server is tested in integration.
 */
export class FakeServer {
  readonly rooms = new Map<string, FakeRoom>()
  readonly ids = new Map<FakeWebSocket, string>()
  /** Sockets the server does not answer (a half-open link). */
  readonly silent = new Set<FakeWebSocket>()
  /** Accept new sockets automatically (open + welcome). */
  autoAccept = true
  historySize = 100
  /** Frames for which this returns false are lost on the way to the client (after the server sent them). */
  deliver: (socket: FakeWebSocket, frame: Record<string, unknown>) => boolean = () => true
  welcomeOverrides: Record<string, unknown> = {}
  received: Array<Record<string, unknown>> = []
  #nextId = 1
  #epochs = 1

  constructor() {
    FakeWebSocket.onCreate = (socket) => {
      if (this.autoAccept) this.accept(socket)
    }
  }

  accept(socket: FakeWebSocket): string {
    const id = `c${this.#nextId++}`
    this.ids.set(socket, id)
    socket.onSend = (frame) => this.#handle(socket, JSON.parse(frame) as Record<string, unknown>)
    socket.welcome(id, this.welcomeOverrides)
    return id
  }

  room(name: string): FakeRoom {
    let room = this.rooms.get(name)
    if (room === undefined) {
      room = { seq: 0, epoch: `e${this.#epochs++}`, history: [], members: new Map() }
      this.rooms.set(name, room)
    }
    return room
  }

  /** Publish as another member or as the server: delivered to every member. */
  publish(name: string, event: string, data: unknown, from = 'server', id?: string): StoredMessage {
    const room = this.room(name)
    const message: StoredMessage = {
      type: 'message',
      room: name,
      event,
      data,
      from,
      seq: ++room.seq,
      ts: 1_000 + room.seq,
      ...(id === undefined ? {} : { id }),
    }
    room.history.push(message)
    if (room.history.length > this.historySize) room.history.shift()
    for (const member of room.members.values()) this.#send(member.socket, message)
    return message
  }

  /** Forget a room's sequence, as a store that lost its data: a new epoch from 0. */
  resetRoom(name: string, notify: boolean): void {
    const room = this.room(name)
    room.seq = 0
    room.epoch = `e${this.#epochs++}`
    room.history = []
    if (notify) {
      for (const member of room.members.values()) {
        this.#send(member.socket, { type: 'reset', room: name, epoch: room.epoch, seq: 0 })
      }
    }
  }

  /** The `system` notice a server sends when it starts shutting down, to every open socket. */
  notifyShutdown(): void {
    for (const socket of this.ids.keys()) {
      this.#send(socket, { type: 'system', message: 'server shutting down', code: 'shutdown' })
    }
  }

  /** Close a client's connection from the server side (or the network: 1006). */
  drop(socket: FakeWebSocket, code = 1006): void {
    this.#forget(socket)
    socket.serverClose(code)
  }

  connectionCount(): number {
    return FakeWebSocket.instances.filter((s) => this.ids.has(s) && s.readyState === 1).length
  }

  #forget(socket: FakeWebSocket): void {
    const id = this.ids.get(socket)
    for (const [name, room] of this.rooms) {
      if (id !== undefined && room.members.delete(id)) {
        for (const member of room.members.values()) {
          this.#send(member.socket, { type: 'member_left', room: name, id })
        }
      }
    }
  }

  #send(socket: FakeWebSocket, message: Record<string, unknown>): undefined {
    if (socket.readyState !== 1 || this.silent.has(socket) || !this.deliver(socket, message)) return
    socket.receive(message)
  }

  #handle(socket: FakeWebSocket, m: Record<string, unknown>): undefined {
    this.received.push(m)
    if (this.silent.has(socket)) return
    const id = this.ids.get(socket)!
    const ref = m.ref
    const reply = (message: Record<string, unknown>): undefined =>
      this.#send(socket, ref === undefined ? message : { ...message, ref })
    switch (m.type) {
      case 'ping':
        return reply({ type: 'pong', ...(m.t === undefined ? {} : { t: m.t }) })
      case 'join': {
        const name = m.room as string
        const room = this.room(name)
        let recovered: boolean | undefined
        let replay: StoredMessage[] = []
        if (m.since !== undefined) {
          const since = m.since as number
          const sameEpoch = m.epoch === room.epoch
          const oldest = room.history[0]?.seq ?? room.seq + 1
          recovered = sameEpoch && (since >= room.seq || oldest <= since + 1)
          // PROTOCOL.md, "Joining": all that is held of this epoch (after since in the same epoch).
          replay = room.history.filter((h) => h.seq > (sameEpoch ? since : 0))
        } else if (typeof m.history === 'number' && m.history > 0) {
          replay = room.history.slice(-m.history)
        }
        const isNew = !room.members.has(id)
        room.members.set(id, { socket, presence: m.presence })
        const members = [...room.members].map(([memberId, v]) => ({
          id: memberId,
          ...(v.presence === undefined ? {} : { presence: v.presence }),
        }))
        reply({
          type: 'joined',
          room: name,
          seq: room.seq,
          epoch: room.epoch,
          members,
          ...(recovered === undefined ? {} : { recovered }),
          ...(replay.length === 0 ? {} : { replay: replay.length }),
        })
        for (const h of replay) this.#send(socket, h)
        if (isNew) {
          const member = { id, ...(m.presence === undefined ? {} : { presence: m.presence }) }
          for (const [otherId, other] of room.members) {
            if (otherId !== id) this.#send(other.socket, { type: 'member_joined', room: name, member })
          }
        }
        return
      }
      case 'leave': {
        const room = this.rooms.get(m.room as string)
        room?.members.delete(id)
        for (const member of room?.members.values() ?? []) {
          this.#send(member.socket, { type: 'member_left', room: m.room, id })
        }
        return reply({ type: 'left', room: m.room })
      }
      case 'publish': {
        const room = this.rooms.get(m.room as string)
        if (room === undefined || !room.members.has(id)) {
          return reply({ type: 'error', code: 'not_joined', message: 'join first', room: m.room })
        }
        const duplicate = m.id === undefined ? undefined : room.history.find((h) => h.id === m.id)
        if (duplicate !== undefined) return reply({ type: 'ack', seq: duplicate.seq })
        const seq = room.seq + 1
        room.seq = seq
        const message: StoredMessage = {
          type: 'message',
          room: m.room as string,
          event: m.event as string,
          data: m.data,
          from: id,
          seq,
          ts: 1_000 + seq,
          ...(m.id === undefined ? {} : { id: m.id as string }),
        }
        room.history.push(message)
        if (room.history.length > this.historySize) room.history.shift()
        for (const [memberId, member] of room.members) {
          if (memberId !== id || m.echo === true) this.#send(member.socket, message)
        }
        return reply({ type: 'ack', seq })
      }
      case 'presence': {
        const room = this.rooms.get(m.room as string)
        const self = room?.members.get(id)
        if (room === undefined || self === undefined) {
          return reply({ type: 'error', code: 'not_joined', message: 'join first', room: m.room })
        }
        self.presence = m.state
        for (const [memberId, member] of room.members) {
          if (memberId !== id) {
            this.#send(member.socket, { type: 'presence', room: m.room, id, state: m.state })
          }
        }
        return reply({ type: 'ack' })
      }
      case 'direct': {
        const target = [...this.ids].find(([s, i]) => i === m.to && s.readyState === 1)
        if (target === undefined)
          return reply({ type: 'error', code: 'not_found', message: 'no such connection' })
        this.#send(target[0], { type: 'direct', event: m.event, data: m.data, from: id, ts: 5 })
        return reply({ type: 'ack' })
      }
    }
  }
}
