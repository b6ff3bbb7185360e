import type { JoinedMessage, Member } from '@roomwire/protocol'

/** The most bytes of members one `joined` or `members` frame carries (less with a small send buffer). */
export const MEMBERS_PAGE_BYTES = 64 * 1024

/**
 * The member page size for a send buffer of `maxBufferedBytes`: well under it, so a page never makes its
 * joiner a slow consumer (issue 12: a `joined` listing 515 members with 2 KB presence each was larger than
 * the buffer, and every newcomer was closed with 4008).
 */
export function membersPageBytes(maxBufferedBytes: number): number {
  return Math.max(1, Math.min(MEMBERS_PAGE_BYTES, Math.floor(maxBufferedBytes / 4)))
}

/** A member's JSON and its UTF-8 length, with the presence value they were made from. */
interface Encoded {
  presence: unknown
  json: string
  bytes: number
}

/**
 * Each member's JSON, made once rather than once per join: filling a room of N lists every member to every
 * joiner, N(N-1)/2 member serializations (36% of the server's CPU filling a room of 5,000, issue 20).
 * Keyed by the adapter's member object; a presence change replaces `presence` (never mutates the value,
 * which is parsed from the wire), so a changed presence is seen by identity and encoded again.
 * Only members of rooms above {@link CACHED_ROOM_SIZE} are kept: below it encoding again is cheap, and the
 * kept JSON of every member of every small room was about 170 bytes of each idle connection's memory.
 */
const encoded = new WeakMap<Member, Encoded>()

/** Rooms larger than this keep their members' JSON between joins. */
export const CACHED_ROOM_SIZE = 64

function encodeMember(member: Member, keep: boolean): Encoded {
  const known = encoded.get(member)
  if (known !== undefined && known.presence === member.presence) return known
  const json = JSON.stringify(member)
  const fresh = { presence: member.presence, json, bytes: Buffer.byteLength(json) }
  if (keep) encoded.set(member, fresh)
  return fresh
}

/** `joined` without its member list, which {@link joinFrames} pages. */
export type JoinedHead = Omit<JoinedMessage, 'members' | 'more'>

/**
 * The frames answering a join, in the protocol's order (PROTOCOL.md, "Joining"): `joined` with the first
 * page of members, the rest of them in `members` frames (`more: true` until the last), then the replay.
 * Made one at a time as they are written, so a join into a big room holds one page of text at a time.
 * Each page holds at least one member, and at most `pageBytes` of them otherwise.
 */
export function* joinFrames(
  head: JoinedHead,
  members: readonly Member[],
  replay: readonly string[],
  pageBytes: number,
): Generator<string, void, undefined> {
  let next = 0
  const keep = members.length > CACHED_ROOM_SIZE
  const page: string[] = []
  do {
    page.length = 0
    let bytes = 0
    while (next < members.length) {
      const member = encodeMember(members[next]!, keep)
      const size = member.bytes + 1
      if (page.length > 0 && bytes + size > pageBytes) break
      page.push(member.json)
      bytes += size
      next++
    }
    const more = next < members.length
    const list = `"members":[${page.join(',')}]`
    if (next === page.length) {
      // The first page goes in `joined`, its members last so the head is encoded as the object it is.
      const text = JSON.stringify(more ? { ...head, more: true } : head)
      yield `${text.slice(0, -1)},${list}}`
    } else {
      yield `{"type":"members","room":${JSON.stringify(head.room)},${list}${more ? ',"more":true' : ''}}`
    }
  } while (next < members.length)
  yield* replay
}
