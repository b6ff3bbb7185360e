import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { FakeWebSocket } from './support/fake-web-socket'
import { fakeClient, flush, startFake } from './support/setup'

/** A stand-in for `window` and `document`, so the browser-only paths run in Node. */
function fakeBrowser() {
  const target = new EventTarget()
  const doc = Object.assign(new EventTarget(), { visibilityState: 'visible' })
  let listeners = 0
  const count = (t: EventTarget) => {
    const add = t.addEventListener.bind(t)
    const remove = t.removeEventListener.bind(t)
    t.addEventListener = (...args: Parameters<EventTarget['addEventListener']>) => {
      listeners++
      add(...args)
    }
    t.removeEventListener = (...args: Parameters<EventTarget['removeEventListener']>) => {
      listeners--
      remove(...args)
    }
  }
  count(target)
  count(doc)
  const g = globalThis as Record<string, unknown>
  g.addEventListener = target.addEventListener
  g.removeEventListener = target.removeEventListener
  g.document = doc
  return {
    online: () => target.dispatchEvent(new Event('online')),
    visibility: (state: 'hidden' | 'visible') => {
      doc.visibilityState = state
      doc.dispatchEvent(new Event('visibilitychange'))
    },
    listeners: () => listeners,
    restore: () => {
      delete g.addEventListener
      delete g.removeEventListener
      delete g.document
    },
  }
}

let browser: ReturnType<typeof fakeBrowser> | null = null

beforeEach(() => {
  vi.useFakeTimers()
})
afterEach(() => {
  vi.useRealTimers()
  FakeWebSocket.reset()
  browser?.restore()
  browser = null
})

describe('regressions from reliability.md section 3', () => {
  it('C1: an auth or policy stop makes no further attempt and leaves no timer', async () => {
    for (const code of [4001, 4003, 4400]) {
      FakeWebSocket.reset()
      startFake()
      const client = fakeClient({ token: 'fixed' })
      await flush()
      FakeWebSocket.latest().serverClose(code)
      await flush(300_000)
      expect(FakeWebSocket.instances).toHaveLength(1)
      expect(vi.getTimerCount()).toBe(0)
      expect(client.getSnapshot().lastError?.code).toBe(
        ({ 4001: 'unauthorized', 4003: 'forbidden', 4400: 'unsupported' } as const)[code],
      )
    }
  })

  it.each(['open', 'connecting', 'backoff'] as const)(
    'C2: close() while %s never reconnects, whatever the socket reports next',
    async (phase) => {
      const server = startFake()
      if (phase !== 'open') server.autoAccept = false
      const client = fakeClient()
      await flush()
      if (phase === 'backoff') FakeWebSocket.latest().serverClose(1006)
      const before = FakeWebSocket.instances.length
      client.close()
      FakeWebSocket.latest().serverClose(1005)
      await flush(300_000)
      expect(FakeWebSocket.instances).toHaveLength(before)
      expect(FakeWebSocket.live()).toBe(0)
      expect(client.status).toBe('closed')
      expect(vi.getTimerCount()).toBe(0)
    },
  )

  it('C3: 1001, 1011, 1012, 1013 and 1006 reconnect and rejoin with since', async () => {
    const server = startFake()
    const client = fakeClient()
    client.join('r')
    await flush()
    for (const code of [1001, 1011, 1012, 1013, 1006]) {
      server.publish('r', 'e', code)
      server.drop(FakeWebSocket.latest(), code)
      await flush(code === 1013 ? 5_250 : 250)
      expect(client.status).toBe('open')
      expect(FakeWebSocket.latest().sentOfType('join')[0]).toMatchObject({
        since: server.rooms.get('r')?.seq,
      })
      // Healthy (joined, open for healthyAfterMs): the next drop backs off from the shortest delay.
      await flush(5_000)
    }
    client.close()
  })

  it('C4: after 10 reconnect cycles every handler fires exactly once per message', async () => {
    const server = startFake()
    const client = fakeClient()
    const room = client.join('r')
    const onEvent = vi.fn()
    const onMessage = vi.fn()
    const onWelcome = vi.fn()
    room.on('e', onEvent)
    room.onMessage(onMessage)
    client.on('welcome', onWelcome)
    await flush()
    for (let i = 0; i < 10; i++) {
      server.drop(FakeWebSocket.latest())
      await flush(250)
      await flush(5_000)
    }
    server.publish('r', 'e', 'once')
    expect(onEvent).toHaveBeenCalledTimes(1)
    expect(onMessage).toHaveBeenCalledTimes(1)
    expect(onWelcome).toHaveBeenCalledTimes(11)
    client.close()
  })

  it('C5: connect() twice, reconnect() while connecting and online toggles keep one live socket', async () => {
    browser = fakeBrowser()
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient()
    client.connect()
    client.connect()
    expect(FakeWebSocket.live()).toBe(1)
    client.reconnect()
    client.reconnect()
    expect(FakeWebSocket.live()).toBe(1)
    for (let i = 0; i < 10; i++) {
      browser.online()
      FakeWebSocket.latest().serverClose(1006)
      browser.online()
      await flush(100)
      expect(FakeWebSocket.live()).toBeLessThanOrEqual(1)
    }
    client.close()
    expect(FakeWebSocket.live()).toBe(0)
  })

  it('C5: random interleavings of every event never make a second live socket', async () => {
    browser = fakeBrowser()
    let seed = 42
    const random = () => {
      seed = (seed * 16807) % 2147483647
      return (seed - 1) / 2147483646
    }
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient({ random })
    const actions = [
      () => client.connect(),
      () => client.reconnect(),
      () => client.close(),
      () => browser?.online(),
      () => FakeWebSocket.latest().serverClose([1000, 1006, 1012, 4001, 1013][Math.floor(random() * 5)]!),
      () => FakeWebSocket.latest().readyState === 0 && FakeWebSocket.latest().open(),
      () => FakeWebSocket.latest().readyState === 1 && server.accept(FakeWebSocket.latest()),
      () => vi.advanceTimersByTime(Math.floor(random() * 2_000)),
    ]
    for (let i = 0; i < 2_000; i++) {
      actions[Math.floor(random() * actions.length)]!()
      if (i % 7 === 0) await flush()
      expect(FakeWebSocket.live()).toBeLessThanOrEqual(1)
    }
    client.close()
    await flush()
    expect(FakeWebSocket.live()).toBe(0)
    expect(vi.getTimerCount()).toBe(0)
  })

  it('C8: after close() no timer is left, even mid-connect with a slow token', async () => {
    startFake()
    const client = fakeClient({ token: () => new Promise<string>(() => {}) })
    client.join('r').leave()
    client.close()
    expect(vi.getTimerCount()).toBe(0)
    expect(FakeWebSocket.instances).toHaveLength(0)
  })

  it('C9: a socket that never opens times out into backoff without throwing', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient({ connectTimeoutMs: 1_000 })
    await flush(1_000)
    expect(client.getSnapshot()).toMatchObject({ status: 'connecting', attempt: 1 })
    client.close()
  })

  it('C10: reconnect() after retries ran out starts a new attempt and resets the counter', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient({ reconnect: { maxAttempts: 1 } })
    FakeWebSocket.latest().serverClose(1006)
    await flush(250)
    FakeWebSocket.latest().serverClose(1006)
    expect(client.getSnapshot().lastError?.code).toBe('retries_exhausted')
    client.reconnect()
    expect(FakeWebSocket.instances).toHaveLength(3)
    expect(client.getSnapshot()).toMatchObject({ status: 'connecting', attempt: 0 })
    FakeWebSocket.latest().serverClose(1006)
    expect(client.getSnapshot().attempt).toBe(1)
    client.close()
  })

  it('C11: 100 publishes made offline go out once each, in order, after welcome and joined', async () => {
    const server = startFake()
    const client = fakeClient()
    const room = client.join('r')
    await flush()
    server.drop(FakeWebSocket.latest())
    const results = Array.from({ length: 100 }, (_, i) => room.publish('e', i))
    await flush(250)
    const socket = FakeWebSocket.latest()
    const types = socket.messages().map((m) => m.type)
    expect(types.indexOf('join')).toBe(0)
    expect(socket.sentOfType('publish').map((m) => m.data)).toEqual(Array.from({ length: 100 }, (_, i) => i))
    expect((await Promise.all(results)).map((r) => r.seq)).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    )
    client.close()
  })

  it('C12: a message over maxMessageBytes is refused locally, so 1009 cannot loop', async () => {
    const server = startFake()
    server.welcomeOverrides = { limits: { maxMessageBytes: 1_024, maxRoomsPerConnection: 10 } }
    const client = fakeClient()
    const room = client.join('r')
    await flush()
    await expect(room.publish('e', 'x'.repeat(2_000))).rejects.toMatchObject({ code: 'too_large' })
    await expect(client.direct('c1', 'e', 'x'.repeat(2_000))).rejects.toMatchObject({ code: 'too_large' })
    expect(FakeWebSocket.instances).toHaveLength(1)
    client.close()
  })

  it('C13: visible again after a long time hidden retries a waiting client at once', async () => {
    browser = fakeBrowser()
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient({ reconnect: { initialMs: 200_000, maxMs: 400_000 } })
    FakeWebSocket.latest().serverClose(1006)
    browser.visibility('hidden')
    await flush(29_000)
    browser.visibility('visible')
    expect(FakeWebSocket.instances).toHaveLength(1)
    browser.visibility('hidden')
    await flush(30_000)
    browser.visibility('visible')
    expect(FakeWebSocket.instances).toHaveLength(2)
    client.close()
  })

  it('C13: visible again after a long time hidden checks an open connection with a ping', async () => {
    browser = fakeBrowser()
    const server = startFake()
    server.welcomeOverrides = { heartbeat: { interval: 300_000, timeout: 10_000 } }
    const client = fakeClient()
    await flush()
    const socket = FakeWebSocket.latest()
    server.silent.add(socket)
    browser.visibility('hidden')
    await flush(31_000)
    expect(socket.sentOfType('ping')).toHaveLength(0)
    browser.visibility('visible')
    expect(socket.sentOfType('ping')).toHaveLength(1)
    await flush(9_999)
    expect(socket.readyState).toBe(1)
    await flush(1)
    expect(socket.readyState).toBeGreaterThanOrEqual(2)
    expect(client.getSnapshot().closeCode).toBe(1006)
    client.close()
  })

  it('C14: an upgrade refused at the HTTP level (only 1006 visible) backs off and is capped', async () => {
    const server = startFake()
    server.autoAccept = false
    const client = fakeClient({ reconnect: { maxAttempts: 5 } })
    for (let i = 0; i < 6; i++) {
      FakeWebSocket.latest().serverClose(1006)
      await flush(60_000)
    }
    expect(FakeWebSocket.instances).toHaveLength(6)
    expect(client.getSnapshot().lastError?.code).toBe('retries_exhausted')
  })

  it('browser listeners are attached once per connect and removed by close()', async () => {
    browser = fakeBrowser()
    startFake()
    const client = fakeClient({ autoConnect: false })
    expect(browser.listeners()).toBe(0)
    client.connect()
    expect(browser.listeners()).toBe(2)
    client.close()
    expect(browser.listeners()).toBe(0)
  })

  it('a throwing handler is reported on error and does not stop other handlers', async () => {
    const server = startFake()
    const client = fakeClient()
    const room = client.join('r')
    const errors: string[] = []
    client.on('error', (e) => errors.push(e.code))
    room.on('e', () => {
      throw new Error('app bug')
    })
    const after = vi.fn()
    room.on('e', after)
    await flush()
    server.publish('r', 'e', 1)
    expect(after).toHaveBeenCalledOnce()
    expect(errors).toEqual(['handler_failed'])
    client.close()
  })

  it('an undecodable server frame is reported on error and ignored', async () => {
    startFake()
    const client = fakeClient()
    const errors: string[] = []
    client.on('error', (e) => errors.push(e.code))
    await flush()
    FakeWebSocket.latest().receive('{"type":"message","room":"r"}')
    FakeWebSocket.latest().receive('not json')
    expect(errors).toEqual(['bad_frame', 'bad_frame'])
    expect(client.status).toBe('open')
    client.close()
  })
})

describe('leaks', () => {
  it('1,000 reconnect cycles leave timers, handlers and browser listeners unchanged', async () => {
    browser = fakeBrowser()
    const server = startFake()
    const client = fakeClient()
    const room = client.join('r')
    room.onMessage(() => {})
    client.on('status', () => {})
    await flush(5_000)
    const timers = vi.getTimerCount()
    const handlers = (client as unknown as { handlerCount: number }).handlerCount
    const listeners = browser.listeners()
    for (let i = 0; i < 1_000; i++) {
      server.drop(FakeWebSocket.latest(), i % 2 === 0 ? 1006 : 1012)
      await flush(250)
      await flush(5_000)
    }
    expect(client.status).toBe('open')
    expect(vi.getTimerCount()).toBe(timers)
    expect((client as unknown as { handlerCount: number }).handlerCount).toBe(handlers)
    expect(browser.listeners()).toBe(listeners)
    expect(FakeWebSocket.live()).toBe(1)
    client.close()
    expect(vi.getTimerCount()).toBe(0)
  })
})

describe('server rendering', () => {
  it('autoConnect: false creates no socket, no timer and touches no browser global', () => {
    browser = fakeBrowser()
    startFake()
    const client = fakeClient({ autoConnect: false })
    client.join('r')
    expect(FakeWebSocket.instances).toHaveLength(0)
    expect(vi.getTimerCount()).toBe(0)
    expect(browser.listeners()).toBe(0)
    expect(client.getSnapshot().status).toBe('idle')
  })
})
