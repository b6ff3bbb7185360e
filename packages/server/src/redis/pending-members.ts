import type { Member } from '@roomwire/protocol'

/**
 * The members of one room whose join is in flight on this node (a catch-up must not remove them from
 * Redis). One that left while its join was in flight (a re-join, then its close or a `leave`) is
 * `departed` until that join is done: this node no longer stands for it, so neither a catch-up (which
 * registered it again after a reconnect) nor the join's answer (which made it a member again) may bring it
 * back; handlers/join.ts has the join leave the adapter once done (issue: departed re-joiners stayed
 * members for good).
 */
export class PendingMembers {
  readonly #joining = new Map<string, Member>()
  readonly #departed = new Set<string>()

  get size(): number {
    return this.#joining.size
  }

  has(id: string): boolean {
    return this.#joining.has(id)
  }

  /** A join of `member` starts. */
  add(member: Member): void {
    this.#joining.set(member.id, member)
  }

  /** The join of `id` is done with the adapter. */
  done(id: string): void {
    this.#joining.delete(id)
    this.#departed.delete(id)
  }

  /** `id` left the room; if its join is in flight, it is departed until that join is done. */
  depart(id: string): void {
    if (this.#joining.has(id)) this.#departed.add(id)
  }

  departed(id: string): boolean {
    return this.#departed.has(id)
  }

  /** The pending members this node still stands for. */
  *standing(): Iterable<Member> {
    for (const [id, member] of this.#joining) if (!this.#departed.has(id)) yield member
  }
}
