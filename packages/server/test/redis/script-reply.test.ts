import { describe, expect, it } from 'vitest'
import { execReply, ScriptReply } from '../../src/redis/script-reply'

describe('a script reply', () => {
  it('reads the fields in the order the script returns them', () => {
    const r = new ScriptReply('roomwirePublish', ['e_1', 7, 0, 1])
    expect([r.string(), r.int(), r.flag(), r.flag()]).toEqual(['e_1', 7, false, true])
  })

  it('throws naming the script, the field and what came when the shape is not the one declared', () => {
    const r = new ScriptReply('roomwireJoin', ['e_1', '7'])
    expect(r.string()).toBe('e_1')
    expect(() => r.int()).toThrow('roomwireJoin replied "7" in field 1; expected an integer')
    expect(() => new ScriptReply('roomwireSync', [2]).oneOf(-1, 0, 1)).toThrow('expected one of -1, 0, 1')
    expect(() => new ScriptReply('roomwireReap', [1, [1]]).list().strings()).toThrow()
  })

  it('tells a status word from a list', () => {
    expect(new ScriptReply('roomwireLeave', 'fenced').is('fenced')).toBe(true)
    expect(new ScriptReply('roomwireLeave', [1, 0]).is('fenced')).toBe(false)
  })

  it("throws a MULTI command's error as it came", () => {
    const err = new Error('WRONGTYPE')
    expect(() =>
      execReply('room info', [
        [null, []],
        [err, null],
      ]),
    ).toThrow(err)
    expect(
      execReply('room info', [
        [null, ['e_1', '3']],
        [null, []],
      ])
        .list()
        .string(),
    ).toBe('e_1')
  })
})
