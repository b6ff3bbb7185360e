import type { IncomingMessage } from 'node:http'
import { describe, expect, it } from 'vitest'
import { extractToken, redactUrl } from '../src/auth'
import { AuthBackoff } from '../src/auth-backoff'
import { addressKey, clientAddress, isLoopback, parseTrustedProxies } from '../src/client-address'
import { LogThrottle } from '../src/log-throttle'
import { closeCodeLabel, errorCodeLabel } from '../src/metrics'
import { budgetsOff, InboundBudget } from '../src/rate-limiter'

const request = (url: string, headers: Record<string, string> = {}, remoteAddress = '127.0.0.1') =>
  ({ url, headers, socket: { remoteAddress } }) as unknown as IncomingMessage

describe('token extraction and redaction', () => {
  it.each([
    '/ws?token=SECRET',
    '/ws?%74oken=SECRET',
    '/ws?tok%65n=SECRET&x=1',
    '/ws?x=1&%74%6F%6B%65%6E=SECRET',
    '/ws?token=SECRET#fragment',
  ])('redact what the server reads as the token in %s', (url) => {
    expect(extractToken(request(url))).toMatch(/^SECRET/)
    expect(redactUrl(url)).not.toContain('SECRET')
    expect(redactUrl(url)).toContain('=[redacted]')
  })

  it('redacts token parameters in any case, and every one of them', () => {
    expect(redactUrl('/ws?TOKEN=a&token=b&Token=c&x=1')).toBe(
      '/ws?TOKEN=[redacted]&token=[redacted]&Token=[redacted]&x=1',
    )
  })

  it('leaves other parameters alone, a double-encoded name included (the server does not read it)', () => {
    expect(redactUrl('/ws?room=a&%2574oken=b')).toBe('/ws?room=a&%2574oken=b')
    expect(extractToken(request('/ws?%2574oken=b'))).toBeUndefined()
  })

  it('cuts a logged URL to 256 characters', () => {
    const url = `/ws?token=x&pad=${'y'.repeat(10_000)}`
    expect(redactUrl(url)).toHaveLength(257)
  })

  it('reads a bearer token from Authorization', () => {
    expect(extractToken(request('/ws', { authorization: 'Bearer abc' }))).toBe('abc')
  })
})

describe('client addresses', () => {
  const trusted = parseTrustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8'])

  it.each([
    ['no header', {}, '127.0.0.1'],
    ['one hop', { 'x-forwarded-for': '203.0.113.9' }, '203.0.113.9'],
    ['a port', { 'x-forwarded-for': '203.0.113.9:4711' }, '203.0.113.9'],
    ['bracketed IPv6 with a port', { 'x-forwarded-for': '[2001:db8::1]:80' }, '2001:db8::1'],
    ['trusted inner hops', { 'x-forwarded-for': '198.51.100.1, 10.0.0.5, fd00::1' }, '198.51.100.1'],
    ['a spoofed left part', { 'x-forwarded-for': 'evil, 6.6.6.6, 198.51.100.1' }, '198.51.100.1'],
    ['a malformed hop', { 'x-forwarded-for': 'not-an-ip' }, '127.0.0.1'],
    ['an IPv4-mapped hop', { 'x-forwarded-for': '::ffff:198.51.100.2' }, '198.51.100.2'],
  ])('with %s', (_name, headers, expected) => {
    expect(clientAddress(request('/ws', headers), trusted)).toBe(expected)
  })

  it('never believes X-Forwarded-For from a peer that is not a trusted proxy', () => {
    const req = request('/ws', { 'x-forwarded-for': '203.0.113.9' }, '192.0.2.1')
    expect(clientAddress(req, trusted)).toBe('192.0.2.1')
  })

  it('keys IPv4 by address and IPv6 by /64', () => {
    expect(addressKey('192.0.2.1')).toBe('192.0.2.1')
    expect(addressKey('2001:db8:1:2:3:4:5:6')).toBe('2001:0db8:0001:0002::/64')
    expect(addressKey('2001:db8:1:2::')).toBe('2001:0db8:0001:0002::/64')
    expect(addressKey('::1')).toBe('0000:0000:0000:0000::/64')
    expect(addressKey(undefined)).toBe('unknown')
  })

  it('knows the loopback addresses', () => {
    expect(['127.0.0.1', '127.9.8.7', '::1', '::2', '128.0.0.1', undefined].map(isLoopback)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ])
  })

  it('refuses trusted proxies that are not addresses or ranges', () => {
    for (const entry of ['localhost', '10.0.0.0/33', '::1/129', '10.0.0.0/x']) {
      expect(() => parseTrustedProxies([entry])).toThrow('option trustedProxies')
    }
  })
})

describe('InboundBudget', () => {
  const rates = { messagesPerSec: 10, messageBurst: 2, bytesPerSec: 100, byteBurst: 150, windowMs: 1000 }

  it('charges bytes and messages apart, refilling both with time', () => {
    const budget = new InboundBudget(rates, 0)
    expect([budget.takeBytes(0, 100), budget.takeBytes(0, 100), budget.takeBytes(0, 50)]).toEqual([
      true,
      false,
      true,
    ])
    expect([budget.takeMessage(0), budget.takeMessage(0), budget.takeMessage(0)]).toEqual([true, true, false])
    expect([budget.takeBytes(100, 10), budget.takeMessage(100)]).toEqual([true, true])
  })

  it('takes anything when a budget is off', () => {
    const budget = new InboundBudget({ ...rates, messagesPerSec: 0, bytesPerSec: 0 }, 0)
    for (let i = 0; i < 10; i++)
      expect([budget.takeBytes(0, 1e9), budget.takeMessage(0)]).toEqual([true, true])
  })

  it('is shareable (never written) only with both budgets off', () => {
    expect(budgetsOff({ ...rates, messagesPerSec: 0, bytesPerSec: 0 })).toBe(true)
    expect(budgetsOff({ ...rates, messagesPerSec: 0 })).toBe(false)
    expect(budgetsOff({ ...rates, bytesPerSec: 0 })).toBe(false)
    expect(budgetsOff(rates)).toBe(false)
  })

  it('calls more than burst refusals within the sliding window a flood', () => {
    const budget = new InboundBudget({ ...rates, messageBurst: 3 }, 0)
    expect([0, 300, 600].map((t) => budget.refused(t, 1))).toEqual([false, false, false])
    expect(budget.refused(900, 1)).toBe(true)
  })

  it('forgets refusals as they leave the window, weighting the previous one by its overlap', () => {
    const budget = new InboundBudget({ ...rates, messageBurst: 3 }, 0)
    for (const t of [0, 300, 600]) budget.refused(t, 1)
    // At 1500 half of the first window still overlaps: 3 × 0.5 + 1 = 2.5, not a flood.
    expect(budget.refused(1500, 1)).toBe(false)
    expect(budget.refused(5000, 1)).toBe(false)
  })

  it('calls more than the byte burst refused within the window a flood, however few frames', () => {
    const budget = new InboundBudget({ ...rates, messageBurst: 100 }, 0)
    expect(budget.refused(0, 100)).toBe(false)
    expect(budget.refused(10, 60)).toBe(true)
  })
})

describe('AuthBackoff', () => {
  const options = { failures: 2, windowMs: 1000, backoffMs: 100, maxMs: 400, maxAddresses: 2 }

  it('starts a backoff past the failures, doubling up to the longest, and starts over after a quiet spell', () => {
    const backoff = new AuthBackoff(options)
    const trip = (t: number) => [backoff.failed('a', t), backoff.failed('a', t), backoff.failed('a', t)]
    expect(trip(0)).toEqual([0, 0, 100])
    expect(backoff.blockedFor('a', 50)).toBe(50)
    expect(trip(100)).toEqual([0, 0, 200])
    expect(trip(300)).toEqual([0, 0, 400])
    expect(trip(700)).toEqual([0, 0, 400])
    expect(trip(1100 + 400)).toEqual([0, 0, 100])
  })

  it('forgets the least recently failing address past maxAddresses', () => {
    const backoff = new AuthBackoff(options)
    for (const key of ['a', 'b', 'a', 'c']) backoff.failed(key, 0)
    expect(backoff.size).toBe(2)
    for (let i = 0; i < 3; i++) backoff.failed('b', 1)
    expect(backoff.blockedFor('b', 1)).toBe(100)
  })

  it('does nothing with 0 failures', () => {
    const backoff = new AuthBackoff({ ...options, failures: 0 })
    for (let i = 0; i < 10; i++) expect(backoff.failed('a', 0)).toBe(0)
    expect(backoff.size).toBe(0)
  })
})

describe('LogThrottle', () => {
  it('lets a number of lines through per interval and reports what it left out', () => {
    const throttle = new LogThrottle(2, 1000)
    expect([throttle.take(0), throttle.take(1), throttle.take(2), throttle.take(3)]).toEqual([
      0,
      0,
      undefined,
      undefined,
    ])
    expect(throttle.take(1000)).toBe(2)
    expect(throttle.take(1001)).toBe(0)
  })
})

describe('metric labels', () => {
  it('keep known close and error codes and call every other one other', () => {
    expect([1000, 1008, 4001, 4400, 4100, 3000, 999, 65_535].map(closeCodeLabel)).toEqual([
      '1000',
      '1008',
      '4001',
      '4400',
      'other',
      'other',
      'other',
      'other',
    ])
    expect(['internal', 'made_up', '__proto__'].map(errorCodeLabel)).toEqual(['internal', 'other', 'other'])
  })
})
