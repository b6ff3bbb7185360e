import { Listeners } from './emitter'
import { RoomwireError } from './errors'
import type { MessageLog, MessageLogEntry, OlderMessages } from './message-log-types'
import type { RoomEnv } from './room-env'
import type {
  HistoryOptions,
  HistoryPage,
  PendingPublish,
  PublishOptions,
  PublishResult,
  RoomMessage,
} from './room-types'

/** What a message log needs from its room. */
export interface LogSource {
  readonly env: Pick<RoomEnv, 'clock' | 'newMessageId' | 'handlerFailed'>
  /** The room's own publishes not acknowledged yet (the snapshot's `pending`, identity-stable). */
  pending(): readonly PendingPublish[]
  /** The room's listeners: they run after every delivery and every change of `pending`. */
  subscribe(listener: () => void): () => void
  publish(event: string, data: unknown, options: PublishOptions): Promise<PublishResult>
  /** A page of older messages (`room.history`). */
  history(options: HistoryOptions): Promise<HistoryPage>
  /** The room's current epoch: a page of another one is not merged. */
  epoch(): string | null
  /** The last seq the room delivered (0 before any). */
  seq(): number
}

const NO_OLDER: OlderMessages = Object.freeze({ hasOlder: true, loadingOlder: false, error: null })
/** Nothing older can exist: the list starts at the epoch's first message, or the room has none. */
const AT_START: OlderMessages = Object.freeze({ hasOlder: false, loadingOlder: false, error: null })

/** A delivered message as a frozen log entry. */
function entryOf(message: RoomMessage): MessageLogEntry {
  return Object.freeze({
    // A seq is unique within one epoch only: after a reset, seq 1 comes again.
    key: message.id ?? `seq:${message.epoch}:${message.seq}`,
    event: message.event,
    data: message.data,
    from: message.from,
    seq: message.seq,
    ts: message.ts,
    own: message.own,
    status: message.own ? 'delivered' : 'received',
  }) as MessageLogEntry
}

interface Failed {
  readonly entry: MessageLogEntry
  readonly input: unknown
}

/**
 * The framework-free message log behind `room.messageLog()` (issue 14): the room records every message
 * it delivers into each of its logs, and a log made later starts from the room's recent messages, so a
 * UI that subscribes a render after the join misses nothing (issue 13). `useMessages` adapts it with
 * `useSyncExternalStore`. Snapshots are frozen and keep their identity until an entry changed.
 */
export class MessageLogImpl implements MessageLog {
  readonly #source: LogSource
  readonly #limit: number
  readonly #only: ReadonlySet<string> | null
  #received: MessageLogEntry[] = []
  /** Pages loaded with `loadOlder`, oldest first: all older than `#received`. */
  #older: MessageLogEntry[] = []
  #olderState: OlderMessages = NO_OLDER
  #loadingOlder: Promise<void> | null = null
  #failed: Failed[] = []
  /** Bumped by every change of `received` or `failed`; `pending` is compared by identity. */
  #version = 0
  #cache: { version: number; pending: readonly PendingPublish[]; list: readonly MessageLogEntry[] } | null =
    null
  /** Entries of sending messages by the outbox's view, so an entry keeps its identity. */
  readonly #sending = new WeakMap<PendingPublish, MessageLogEntry>()
  readonly #listeners: Listeners

  constructor(
    source: LogSource,
    limit: number,
    events: readonly string[] | undefined,
    seed: readonly RoomMessage[],
  ) {
    this.#source = source
    this.#limit = Math.max(1, limit)
    this.#only = events === undefined || events.length === 0 ? null : new Set(events)
    this.#listeners = new Listeners((error) => source.env.handlerFailed(error, 'message log listener'))
    for (const message of seed) this.record(message)
  }

  /** A message the room delivered (the room notifies its listeners right after). */
  record(message: RoomMessage): void {
    if (this.#only !== null && !this.#only.has(message.event)) return
    this.#received.push(entryOf(message))
    // Trimming under loaded pages would cut a hole between them and the live messages.
    if (this.#older.length === 0 && this.#received.length > this.#limit) this.#received.shift()
    this.#version++
  }

  // Arrow properties, so that each can be handed out on its own (`useSyncExternalStore`, an onClick).
  subscribe = (listener: () => void): (() => void) => {
    const fromRoom = this.#source.subscribe(listener)
    const fromLog = this.#listeners.subscribe(listener)
    return () => {
      fromRoom()
      fromLog()
    }
  }

  getSnapshot = (): readonly MessageLogEntry[] => {
    const pending = this.#source.pending()
    const cache = this.#cache
    if (cache !== null && cache.version === this.#version && cache.pending === pending) return cache.list
    const listed = new Set<string>()
    const list: MessageLogEntry[] = []
    for (const entry of [...this.#older, ...this.#received]) {
      if (listed.has(entry.key)) continue
      listed.add(entry.key)
      list.push(entry)
    }
    for (const failed of this.#failed) list.push(failed.entry)
    for (const p of pending) {
      if (listed.has(p.id) || (this.#only !== null && !this.#only.has(p.event))) continue
      let entry = this.#sending.get(p)
      if (entry === undefined) {
        entry = Object.freeze({
          key: p.id,
          event: p.event,
          data: p.data,
          from: null,
          seq: null,
          ts: p.createdAt,
          own: true,
          status: 'sending',
          phase: p.status,
        })
        this.#sending.set(p, entry)
      }
      list.push(entry)
    }
    // A change elsewhere in the room (another event's publish) leaves this list as it was.
    const same =
      cache !== null && cache.list.length === list.length && list.every((entry, i) => entry === cache.list[i])
    const result = same ? cache.list : Object.freeze(list)
    this.#cache = { version: this.#version, pending, list: result }
    return result
  }

  send = async (event: string, data: unknown): Promise<void> => {
    const key = this.#source.env.newMessageId()
    try {
      await this.#source.publish(event, data, { id: key })
    } catch (cause) {
      const error =
        cause instanceof RoomwireError ? cause : new RoomwireError('internal', 'publish failed', { cause })
      const entry: MessageLogEntry = Object.freeze({
        key,
        event,
        data,
        from: null,
        seq: null,
        ts: this.#source.env.clock.now(),
        own: true,
        status: 'failed',
        error,
      })
      // Bounded like the rest of the list: the oldest failure goes first.
      this.#failed = [...this.#failed, { entry, input: data }].slice(-this.#limit)
      this.#bump()
    }
  }

  retry = (key: string): void => {
    const failed = this.#failed.find((f) => f.entry.key === key)
    if (failed === undefined) return
    this.dismiss(key)
    void this.send(failed.entry.event, failed.input)
  }

  dismiss = (key: string): void => {
    const rest = this.#failed.filter((f) => f.entry.key !== key)
    if (rest.length === this.#failed.length) return
    this.#failed = rest
    this.#bump()
  }

  getOlder = (): OlderMessages =>
    this.#olderState === NO_OLDER && this.#atStart() ? AT_START : this.#olderState

  /**
   * Whether the list already holds the epoch's first message (seq 1), or the joined room has none: then
   * no page can add anything, and a "show earlier" button would offer nothing. Only the events a filtered
   * log keeps count, so a filtered log whose first kept message is not seq 1 still asks.
   */
  #atStart(): boolean {
    const first = this.#older[0] ?? this.#received[0]
    if (first !== undefined) return first.seq === 1
    return this.#only === null && this.#source.epoch() !== null && this.#source.seq() === 0
  }

  loadOlder = (): Promise<void> => {
    if (this.#loadingOlder !== null) return this.#loadingOlder
    if (!this.getOlder().hasOlder) return Promise.resolve()
    this.#setOlder({ hasOlder: true, loadingOlder: true, error: null })
    const first = this.#older[0] ?? this.#received[0]
    const options = first?.seq == null ? {} : { before: first.seq }
    this.#loadingOlder = this.#source.history(options).then(
      (page) => {
        this.#loadingOlder = null
        // A page of another epoch says nothing about this list's messages.
        if (page.epoch !== this.#source.epoch()) {
          this.#setOlder({ hasOlder: true, loadingOlder: false, error: null })
          return
        }
        const listed = new Set([...this.#older, ...this.#received].map((e) => e.key))
        const fresh = page.messages
          .filter((m) => this.#only === null || this.#only.has(m.event))
          .map(entryOf)
          .filter((e) => !listed.has(e.key))
        if (fresh.length > 0) {
          this.#older = [...fresh, ...this.#older]
          this.#version++
        }
        this.#setOlder({ hasOlder: page.more, loadingOlder: false, error: null })
      },
      (cause: unknown) => {
        this.#loadingOlder = null
        const error =
          cause instanceof RoomwireError ? cause : new RoomwireError('internal', 'history failed', { cause })
        this.#setOlder({ hasOlder: true, loadingOlder: false, error })
      },
    )
    return this.#loadingOlder
  }

  #setOlder(state: OlderMessages): void {
    this.#olderState = Object.freeze(state)
    this.#listeners.notify()
  }

  #bump(): void {
    this.#version++
    this.#listeners.notify()
  }
}
