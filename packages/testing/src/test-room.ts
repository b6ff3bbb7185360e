import type { Member, ResyncInfo, Room, RoomMessage, RoomStatus } from '@roomwire/client'
import type { EventName, Protocol, UntypedProtocol } from '@roomwire/protocol'
import { DEFAULT_NOTHING_MS, EventQueue, type NextOptions } from './event-queue'
import { waitForSnapshot } from './wait-for'

/** What `next(event)` resolves to: an application message, or a lifecycle event's payload. */
export type RoomEvents<P extends Protocol = UntypedProtocol> = {
  [K in EventName<P>]: Extract<RoomMessage<P>, { event: K }>
} & {
  member_joined: Member<P>
  member_left: Member<P>
  presence: Member<P>
  resync: ResyncInfo
}

/** The lifecycle events a test room records beside the application messages. */
const LIFECYCLE = ['member_joined', 'member_left', 'presence', 'resync'] as const

/**
 * One room of a test client, as a test reads it. It records from the client's first `join` of the
 * room: every application message in `seq` order once (own publishes included once acknowledged,
 * `own: true`, as `room.onMessage` delivers them), and `member_joined`, `member_left`, `presence` and
 * `resync`.
 */
export interface TestRoom<P extends Protocol = UntypedProtocol> {
  readonly name: string
  /** The real room handle (the one `client.join` returned). */
  readonly handle: Room<P>
  /**
   * The oldest event of this name not taken by an earlier `next`, waiting for it if none came yet.
   * Rejects with `RoomwireTestError` (`timeout`) naming what it waited for and what arrived instead.
   * @example await expect(room.next('chat')).resolves.toMatchObject({ data: { text: 'hi' } })
   */
  next<K extends keyof RoomEvents<P> & string>(
    event: K,
    options?: NextOptions<RoomEvents<P>[K]>,
  ): Promise<RoomEvents<P>[K]>
  /**
   * Resolves after `ms` of real time in which no such event came (none untaken before either); rejects
   * with `unexpected` as soon as one does. The only helper that waits by the clock, by necessity.
   * @default ms 100
   */
  nothing<K extends keyof RoomEvents<P> & string>(
    event: K,
    ms?: number,
    where?: (value: RoomEvents<P>[K]) => boolean,
  ): Promise<void>
  /** Every event of this name so far, taken or not, oldest first. */
  received<K extends keyof RoomEvents<P> & string>(event: K): RoomEvents<P>[K][]
  /** The room's members now, self included. */
  members(): readonly Member<P>[]
  /** How many members the room has now, self included (right in counts mode too, where `members()` is self). */
  memberCount(): number
  /** Resolves once the room's status is `status` (now, or when it changes to it). */
  waitFor(status: RoomStatus, options?: { timeoutMs?: number }): Promise<void>
}

/** The recording behind one {@link TestRoom}: attach each handle the client's `join` returns. */
export class RoomRecorder<P extends Protocol> {
  readonly #queue: EventQueue
  readonly #attached = new WeakSet<Room<P>>()
  readonly #label: string
  #handle: Room<P> | null = null
  readonly view: TestRoom<P>

  constructor(
    readonly name: string,
    owner: string,
  ) {
    this.#label = `${owner} in room "${name}"`
    this.#queue = new EventQueue(this.#label)
    this.view = this.#makeView()
  }

  attach(handle: Room<P>): void {
    this.#handle = handle
    if (this.#attached.has(handle)) return
    this.#attached.add(handle)
    handle.onMessage((message) => this.#queue.push(message.event, message))
    for (const event of LIFECYCLE) {
      const on = handle.on.bind(handle) as (event: string, handler: (value: unknown) => void) => () => void
      on(event, (value) => this.#queue.push(event, value))
    }
  }

  close(reason: string): void {
    this.#queue.close(reason)
  }

  #makeView(): TestRoom<P> {
    const queue = this.#queue
    const recorder = this
    return {
      name: this.name,
      get handle() {
        return recorder.#handle as Room<P>
      },
      next: (event, options) => queue.next(event, options as NextOptions<unknown>) as never,
      nothing: (event, ms = DEFAULT_NOTHING_MS, where) =>
        queue.nothing(event, ms, where as ((value: unknown) => boolean) | undefined),
      received: (event) => queue.received(event) as never,
      members: () => recorder.#handle?.members ?? [],
      memberCount: () => recorder.#handle?.getSnapshot().memberCount ?? 0,
      waitFor: (status, options) => {
        const handle = recorder.#handle as Room<P>
        return waitForSnapshot({
          subscribe: (listener) => handle.subscribe(listener),
          current: () => handle.getSnapshot().status,
          wanted: status,
          label: this.#label,
          timeoutMs: options?.timeoutMs,
        })
      },
    }
  }
}
