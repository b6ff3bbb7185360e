import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type RoomMembership,
  RoomSet,
  type RoomSlot,
  slotDelete,
  slotEntries,
  slotGet,
  slotSet,
  slotSize,
} from '../src/room-set'

// A connection's rooms slot holds one joined room as its name alone (issue 14's idle memory): checked
// against a Map, the book it replaces, over any sequence of joins, completions and leaves.

const rooms = fc.constantFrom('a', 'b', 'c')
const op = fc.oneof(
  fc.record({
    kind: fc.constant('set' as const),
    room: rooms,
    state: fc.constantFrom<RoomMembership>('pending', 'joined'),
  }),
  fc.record({ kind: fc.constant('delete' as const), room: rooms }),
)

describe('a connection rooms slot', () => {
  it('answers as a Map of the same joins and leaves would, in order', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
        let slot: RoomSlot
        const model = new Map<string, RoomMembership>()
        for (const o of ops) {
          if (o.kind === 'set') {
            slot = slotSet(slot, o.room, o.state)
            model.set(o.room, o.state)
          } else {
            slot = slotDelete(slot, o.room)
            model.delete(o.room)
          }
          expect(slotEntries(slot)).toEqual([...model])
          expect(slotSize(slot)).toBe(model.size)
          for (const room of ['a', 'b', 'c']) expect(slotGet(slot, room)).toBe(model.get(room))
        }
      }),
    )
  })

  it('holds one joined room as its name, a pending join or a second room as a RoomSet, nothing as undefined', () => {
    let slot = slotSet(undefined, 'a', 'pending')
    expect(slot).toBeInstanceOf(RoomSet)
    slot = slotSet(slot, 'a', 'joined')
    expect(slot).toBe('a')
    slot = slotSet(slot, 'b', 'joined')
    expect(slot).toBeInstanceOf(RoomSet)
    slot = slotDelete(slot, 'a')
    expect(slot).toBe('b')
    expect(slotDelete(slot, 'b')).toBeUndefined()
  })
})
