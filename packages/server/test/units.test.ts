import { describe, expect, it } from 'vitest'
import { redactUrl } from '../src/auth'
import { HistoryRing } from '../src/index'
import { resolveStaticPath } from '../src/static-files'
import { framesOf, msg, pushMessage, seqsOf } from './helpers'

describe('HistoryRing', () => {
  it('keeps the last capacity messages in order', () => {
    const ring = new HistoryRing(3)
    for (let seq = 1; seq <= 5; seq++) pushMessage(ring, msg(seq))
    expect(seqsOf(ring.last(10))).toEqual([3, 4, 5])
    expect(seqsOf(ring.last(2))).toEqual([4, 5])
  })

  it('answers since with what is held, or recovered false for a gap or a future seq', () => {
    const ring = new HistoryRing(3)
    for (let seq = 1; seq <= 5; seq++) pushMessage(ring, msg(seq))
    expect(ring.since(2, 5)).toEqual({ recovered: true, frames: framesOf(msg(3), msg(4), msg(5)) })
    expect(ring.since(5, 5)).toEqual({ recovered: true, frames: framesOf() })
    expect(ring.since(1, 5)).toEqual({ recovered: false })
    expect(ring.since(6, 5)).toEqual({ recovered: false })
  })

  it('forgets a message id when its message leaves the ring', () => {
    const ring = new HistoryRing(2)
    pushMessage(ring, msg(1, 'a'))
    expect(ring.seqOfId('a')).toBe(1)
    pushMessage(ring, msg(2))
    pushMessage(ring, msg(3))
    expect(ring.seqOfId('a')).toBeUndefined()
  })

  it('holds nothing with capacity 0', () => {
    const ring = new HistoryRing(0)
    pushMessage(ring, msg(1, 'a'))
    expect(ring.size).toBe(0)
    expect(ring.since(0, 1)).toEqual({ recovered: false })
  })
})

describe('redactUrl and resolveStaticPath', () => {
  it('redacts the token query parameter wherever it is', () => {
    expect(redactUrl('/ws?token=abc.def&x=1')).toBe('/ws?token=[redacted]&x=1')
    expect(redactUrl('/ws?x=1&TOKEN=abc')).toBe('/ws?x=1&TOKEN=[redacted]')
  })

  it('refuses paths that leave the root', () => {
    expect(resolveStaticPath('/srv/site', '/a/b.js')).toBe('/srv/site/a/b.js')
    expect(resolveStaticPath('/srv/site', '/../etc/passwd')).toBeUndefined()
    expect(resolveStaticPath('/srv/site', '/%2e%2e/%2e%2e/etc/passwd')).toBeUndefined()
    expect(resolveStaticPath('/srv/site', '/a%00')).toBeUndefined()
    expect(resolveStaticPath('/srv/site', '/%E0%A4%A')).toBeUndefined()
  })
})
