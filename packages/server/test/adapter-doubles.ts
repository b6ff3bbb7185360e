import { createMemoryAdapter, type MemoryAdapterOptions, type RoomAdapter } from '../src/index'

/** The memory adapter, with joins held until `release()` so publishes can land in the middle of one. */
export function heldJoinAdapter(
  options?: MemoryAdapterOptions,
): RoomAdapter & { release(): void; waiting(): number } {
  const inner = createMemoryAdapter(options)
  const held: (() => void)[] = []
  return {
    ...inner,
    async join(room, member, replay, max) {
      await new Promise<void>((resolve) => held.push(resolve))
      return inner.join(room, member, replay, max)
    },
    release() {
      for (const resolve of held.splice(0)) resolve()
    },
    waiting: () => held.length,
  }
}

/**
 * The memory adapter whose joins add the member (and announce it) and then fail, as a Redis join whose reply
 * was lost to a timeout does.
 */
export function failingJoinAdapter(): RoomAdapter & { fail: boolean } {
  const inner = createMemoryAdapter()
  const adapter = {
    ...inner,
    fail: true,
    async join(...args: Parameters<RoomAdapter['join']>) {
      const result = await inner.join(...args)
      if (adapter.fail) throw new Error('join reply lost')
      return result
    },
  }
  return adapter
}

/** The memory adapter with publishes held until `release()`, as a Redis round trip would. */
export function heldPublishAdapter(): RoomAdapter & { release(): void; waiting(): number } {
  const inner = createMemoryAdapter()
  const held: (() => void)[] = []
  return {
    ...inner,
    async publish(room, input) {
      await new Promise<void>((resolve) => held.push(resolve))
      return inner.publish(room, input)
    },
    release() {
      for (const resolve of held.splice(0)) resolve()
    },
    waiting: () => held.length,
  }
}
