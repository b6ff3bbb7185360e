import type { RoomSnapshot } from '@roomwire/client'
import type { Protocol, UntypedProtocol } from '@roomwire/protocol'
import { useRoomHandle } from './use-room-handle'
import { useRoomSnapshot } from './use-room-snapshot'

type Members<P extends Protocol> = RoomSnapshot<P>['members']

const all = <P extends Protocol>(members: Members<P>) => members

/**
 * The members of room `name`, or a slice of them: with a selector, the component re-renders only when the
 * selected value changes by `isEqual` (default `Object.is`; pass `shallowEqual` for selectors that build
 * arrays or objects).
 * @example
 * const names = useMembers('general', (members) => members.map((m) => m.user ?? m.id), shallowEqual)
 */
export function useMembers<P extends Protocol = UntypedProtocol, T = Members<P>>(
  name: string,
  selector: (members: Members<P>) => T = all as (members: Members<P>) => T,
  isEqual?: (a: T, b: T) => boolean,
): T {
  const room = useRoomHandle<P>(name)
  return useRoomSnapshot(name, room, (snapshot: RoomSnapshot<P>) => selector(snapshot.members), isEqual)
}
