import { type Protocol, ROOM_NAME_PATTERN } from '@roomwire/protocol'
import type { RoomFrame } from './client-frames'
import { cancelTimer, type TimerHandle } from './clock'
import { RoomwireError } from './errors'
import { RoomImpl } from './room'
import type { RoomEnv, RoomOwner } from './room-env'
import type { JoinOptions } from './room-types'
import type { Transport } from './transport'

/** A room and who holds it. */
interface Held<P extends Protocol> {
  readonly room: RoomImpl<P>
  refs: number
  /** Runs from the last `leave()` for `leaveGraceMs`; a `join` meanwhile keeps the room. */
  grace: TimerHandle | null
}

/**
 * The rooms a client holds, by name (a Map: names come from the app), with their reference counts and
 * leave grace: the only writer of that book, and the one loop over it for what concerns every room (a
 * new connection, a drop, a stop). A quick re-join within the grace (a UI that mounts twice, StrictMode)
 * costs nothing on the wire.
 */
export class RoomRegistry<P extends Protocol> {
  readonly #rooms = new Map<string, Held<P>>()
  readonly #transport: Transport
  readonly #env: RoomEnv
  readonly #owner: RoomOwner
  readonly #left: (name: string) => void

  /**
   * `client.settled` runs when a room's join settled (the client checks whether the connection is
   * healthy, and sends the room's requests); `client.left` when a room was left for good.
   */
  constructor(
    transport: Transport,
    env: RoomEnv,
    client: Pick<RoomOwner, 'settled' | 'request'> & { left(name: string): void },
  ) {
    this.#transport = transport
    this.#env = env
    this.#left = client.left
    this.#owner = {
      settled: client.settled,
      request: client.request,
      release: (room) => this.#release(room.name),
    }
  }

  /** Whether a request for room `name` may go now: joined; false while joining; else why it never will. */
  requestable(name: string): boolean | RoomwireError {
    const room = this.#rooms.get(name)?.room
    if (room === undefined) return new RoomwireError('left', `room "${name}" was left`)
    if (room.status === 'error')
      return room.getSnapshot().error ?? new RoomwireError('left', `room "${name}" was refused`)
    return room.status === 'joined'
  }

  /** Every room's join settled on this connection. */
  get settled(): boolean {
    for (const { room } of this.#rooms.values()) if (!room.settled) return false
    return true
  }

  /** Handlers and listeners of every room (for leak tests). */
  get handlerCount(): number {
    let count = 0
    for (const { room } of this.#rooms.values()) count += room.handlerCount
    return count
  }

  /** The room `name`, made on first use, else with one more reference. */
  join(name: string, options: JoinOptions<P> | undefined): RoomImpl<P> {
    if (!ROOM_NAME_PATTERN.test(name)) {
      throw new TypeError(`room name "${name}" must be 1 to 128 characters of A-Z a-z 0-9 _ - . : / @`)
    }
    const held = this.#rooms.get(name)
    if (held !== undefined) {
      held.refs++
      held.grace = cancelTimer(this.#env.clock, held.grace)
      held.room.addHolder(options)
      return held.room
    }
    const room = new RoomImpl<P>(name, options, this.#transport, this.#env, this.#owner)
    this.#rooms.set(name, { room, refs: 1, grace: null })
    return room
  }

  #release(name: string): void {
    const held = this.#rooms.get(name)
    if (held === undefined || held.refs === 0) return
    held.refs--
    if (held.refs > 0) return
    const { clock, leaveGraceMs } = this.#env
    if (leaveGraceMs <= 0) {
      this.#leave(held)
      return
    }
    held.grace = clock.setTimeout(() => {
      held.grace = null
      if (held.refs === 0) this.#leave(held)
    }, leaveGraceMs)
  }

  #leave(held: Held<P>): void {
    this.#rooms.delete(held.room.name)
    held.room.leaveNow()
    this.#left(held.room.name)
  }

  /** A frame for the room it names (none for a room not held). */
  receive(message: RoomFrame, bytes: number): void {
    this.#rooms.get(message.room)?.room.receive(message, bytes)
  }

  /** A connection got its `welcome`: each room (re)joins. */
  connectionReady(): void {
    for (const { room } of [...this.#rooms.values()]) room.connectionReady()
  }

  disconnected(): void {
    for (const { room } of this.#rooms.values()) room.disconnected()
  }

  /** The client stopped for good (a final close code); the rooms stay held for a later reconnect. */
  stopped(error: RoomwireError): void {
    for (const { room } of this.#rooms.values()) room.stopped(error)
  }

  /** The client closed: every room ends. */
  closeAll(error: RoomwireError): void {
    const held = [...this.#rooms.values()]
    this.#rooms.clear()
    for (const { room, grace } of held) {
      cancelTimer(this.#env.clock, grace)
      room.shutdown(error)
    }
  }

  /** 1009: the server would not read a frame; drop the largest publish in flight so it cannot loop. */
  dropLargestInFlight(): void {
    let culprit: RoomImpl<P> | null = null
    let size = 0
    for (const { room } of this.#rooms.values()) {
      const largest = room.outbox.largestInFlight()
      if (largest > size) {
        size = largest
        culprit = room
      }
    }
    culprit?.outbox.dropLargestInFlight()
  }
}
