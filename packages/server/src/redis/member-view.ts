import type { Member } from '@roomwire/protocol'
import type { RoomBroadcast } from '../adapter'

/** A frame that changes who is in a room or what their presence is. */
export type MembershipChange = Extract<RoomBroadcast, { type: 'member_joined' | 'member_left' | 'presence' }>

/** Membership frames a view keeps at most before its first answer; past this it asks for a catch-up. */
const MAX_EARLY = 10_000

/**
 * The members of one room as this node's members were told them: what a catch-up diffs against what
 * Redis holds, to announce the joins and leaves they missed (after a store loss nobody else will).
 *
 * It starts from the first local join's answer, which lists the members as that join's script read them;
 * until then it keeps the membership frames it sees, and where each join's mark fell among them, so that
 * the frames after the answer's mark are applied to it (issue 13: a join landing between a join's script
 * and its answer was delivered but missing here, and its leave after a store loss was never told).
 */
export class MemberView {
  #members: Map<string, Member> | undefined
  #early: { changes: MembershipChange[]; marks: Map<string, number>; overflowed: boolean } | undefined = {
    changes: [],
    marks: new Map(),
    overflowed: false,
  }

  /** A membership frame, in channel order. */
  track(change: MembershipChange): void {
    if (this.#members !== undefined) {
      apply(this.#members, change)
      return
    }
    const early = this.#early
    if (early === undefined) return
    if (early.changes.length >= MAX_EARLY) early.overflowed = true
    else early.changes.push(change)
  }

  /** A join's mark, in channel order. */
  mark(mark: string): void {
    this.#early?.marks.set(mark, this.#early.changes.length)
  }

  /**
   * A local join answered with `members`, read by the script that published `mark`: start from it if
   * nothing did yet. False when frames had to be dropped meanwhile (then a catch-up must read the
   * members again).
   */
  answered(members: readonly Member[], mark: string): boolean {
    if (this.#members !== undefined) return true
    const view = byId(members)
    const early = this.#early
    this.#early = undefined
    this.#members = view
    if (early === undefined) return true
    for (const change of early.changes.slice(early.marks.get(mark) ?? 0)) apply(view, change)
    return !early.overflowed
  }

  /**
   * A catch-up read `members` from Redis: take them as the view, and return the frames that tell this
   * node's members what changed (each but a leave skips the member it is about). `local` members are
   * left out: the sync script announces those itself, on the channel.
   */
  replace(
    room: string,
    members: readonly Member[],
    local: ReadonlyMap<string, Member>,
  ): { message: MembershipChange; skip?: string }[] {
    const before = this.#members
    const now = byId(members)
    this.#members = now
    // Frames held back by the catch-up are applied to this view after it: the early ones are moot.
    this.#early = undefined
    if (before === undefined) return []
    const changes: { message: MembershipChange; skip?: string }[] = []
    for (const id of before.keys()) {
      if (!now.has(id)) changes.push({ message: { type: 'member_left', room, id } })
    }
    for (const [id, member] of now) {
      if (local.has(id)) continue
      const was = before.get(id)
      if (was === undefined) changes.push({ message: { type: 'member_joined', room, member }, skip: id })
      else if (JSON.stringify(was.presence) !== JSON.stringify(member.presence)) {
        changes.push({ message: { type: 'presence', room, id, state: member.presence }, skip: id })
      }
    }
    return changes
  }
}

function byId(members: readonly Member[]): Map<string, Member> {
  return new Map(members.map((member) => [member.id, member]))
}

function apply(view: Map<string, Member>, change: MembershipChange): void {
  switch (change.type) {
    case 'member_joined':
      view.set(change.member.id, change.member)
      return
    case 'member_left':
      view.delete(change.id)
      return
    case 'presence': {
      const member = view.get(change.id)
      if (member !== undefined) view.set(change.id, { ...member, presence: change.state })
    }
  }
}
