import { type LogSource, MessageLogImpl } from './message-log'
import { RecentMessages } from './recent-messages'
import type { RoomMessage } from './room-types'

/**
 * A room's message logs, one per options for the life of the handle, and the recent messages a log made
 * later starts from (issue 13: a component that mounts after the join still shows what it replayed).
 */
export class RoomLogs {
  /** A Map: event names come from the app. */
  readonly #logs = new Map<string, MessageLogImpl>()
  readonly #recent: RecentMessages

  constructor(keep: number) {
    this.#recent = new RecentMessages(keep)
  }

  /** Keep at least `count` recent messages from now on (a larger `history`). */
  keep(count: number): void {
    this.#recent.grow(count)
  }

  /** The log for these options, made on first use from the recent messages. */
  log(source: LogSource, limit: number, events: readonly string[] | undefined): MessageLogImpl {
    const key = `${limit}\u0000${events?.join('\u0000') ?? '*'}`
    let log = this.#logs.get(key)
    if (log === undefined) {
      this.#recent.grow(limit)
      log = new MessageLogImpl(source, limit, events, this.#recent.list())
      this.#logs.set(key, log)
    }
    return log
  }

  /** A message the room delivered (its listeners are notified right after). */
  record(message: RoomMessage): void {
    this.#recent.push(message)
    for (const log of this.#logs.values()) log.record(message)
  }
}
