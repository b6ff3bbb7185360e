import type { TestClient } from './helpers'

/**
 * What a member knows of the room's size from its frames, in order: its `joined` (the count, or the list),
 * then `member_count` (absolute) or each change. Also whether it is in counts mode at the end, and whether
 * it got any change or others' presence while counted.
 */
export function viewOf(client: TestClient, room: string) {
  let count = 0
  let counted = false
  let strayWhileCounted = 0
  for (const m of client.messages) {
    if ('room' in m && m.room !== room) continue
    if (m.type === 'joined') {
      counted = m.count !== undefined
      count = m.count ?? m.members.length
    } else if (m.type === 'members') count += m.members.length
    else if (m.type === 'member_count') {
      counted = true
      count = m.count
    } else if (m.type === 'member_joined' || m.type === 'member_left' || m.type === 'presence') {
      if (counted) strayWhileCounted++
      else if (m.type !== 'presence') count += m.type === 'member_joined' ? 1 : -1
    }
  }
  return { count, counted, strayWhileCounted }
}
