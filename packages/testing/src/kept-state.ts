import type { RoomPersistence, RoomSnapshot } from '@roomwire/server'

/**
 * The memory adapter's rooms kept in this process between two servers of one test: what a state file
 * does for the reference server, without a file. `load` hands the rooms over once, as `fileState` does.
 */
export interface KeptState extends RoomPersistence {
  /** Forget what the last close saved (a restart that loses the rooms). */
  clear(): void
}

export function keptState(): KeptState {
  let saved: readonly RoomSnapshot[] | undefined
  return {
    load: () => {
      const rooms = saved
      saved = undefined
      return rooms
    },
    save: (rooms) => {
      saved = rooms
    },
    clear: () => {
      saved = undefined
    },
  }
}
