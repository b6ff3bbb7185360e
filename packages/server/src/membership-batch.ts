import type { MemberJoinedMessage, MemberLeftMessage } from '@roomwire/protocol'
import type { Connection } from './connection'
import { LazyFrame } from './frames'

/** A membership change of a room, as the adapter delivers it. */
export type MembershipChange = MemberJoinedMessage | MemberLeftMessage

/** One entry of a `member_changes` frame's `changes` (PROTOCOL.md, "Server to client"). */
function changeText(change: MembershipChange): string {
  return change.type === 'member_joined'
    ? `{"joined":${JSON.stringify(change.member)}}`
    : `{"left":${JSON.stringify(change.id)}}`
}

/**
 * A room's membership changes not yet written, written together as one frame per member (issue 20; when,
 * local-rooms.ts decides): filling a room of N one `member_joined` frame per join and member costs
 * N(N-1)/2 frames. Each member gets exactly the changes after its own `joined` snapshot: a member that
 * became one while the batch was open gets the changes from that point on (its buffered frames up to its
 * activation were filtered against its snapshot, local-rooms.ts), so nobody is told of a change twice or
 * misses one. A change alone in its batch keeps its own frame (`member_joined`, `member_left`), as before.
 */
export class MembershipBatch {
  readonly room: string
  readonly #changes: MembershipChange[] = []
  /** Each change's entry text, made once for every frame it goes in. */
  #texts: string[] | undefined
  /** Members that became members during the turn, with the number of changes made before that. */
  #startOf: Map<Connection, number> | undefined

  constructor(room: string) {
    this.room = room
  }

  get size(): number {
    return this.#changes.length
  }

  add(change: MembershipChange): void {
    this.#changes.push(change)
  }

  /** `connection` just became a member: it is owed only the changes from now on. */
  joined(connection: Connection): void {
    this.#startOf ??= new Map()
    this.#startOf.set(connection, this.#changes.length)
  }

  /** The changes from `start` on, as one frame for every member owed them. */
  #frame(start: number): LazyFrame {
    const changes = this.#changes
    if (changes.length - start === 1) return new LazyFrame(() => JSON.stringify(changes[start]))
    return new LazyFrame(() => {
      this.#texts ??= changes.map(changeText)
      const list = this.#texts.slice(start).join(',')
      return `{"type":"member_changes","room":${JSON.stringify(this.room)},"changes":[${list}]}`
    })
  }

  /**
   * The frame each current member is owed: one shared by every member of the whole turn, one per
   * starting point for members who joined during it (nothing when they joined after the last change).
   */
  *frames(members: Iterable<Connection>): Generator<[LazyFrame, Connection[]]> {
    const startOf = this.#startOf
    const byStart = new Map<number, Connection[]>()
    for (const connection of members) {
      const start = startOf?.get(connection) ?? 0
      if (start >= this.#changes.length) continue
      const group = byStart.get(start)
      if (group === undefined) byStart.set(start, [connection])
      else group.push(connection)
    }
    for (const [start, group] of byStart) yield [this.#frame(start), group]
  }
}
