import type { Client } from '@roomwire/client'
import type { Protocol, UntypedProtocol } from '@roomwire/protocol'
import { createContext, useContext } from 'react'

// biome-ignore lint/suspicious/noExplicitAny: the context holds a client of whatever protocol the app declared
export const ClientContext = createContext<Client<any> | null>(null)

/**
 * The client from the nearest `<RoomwireProvider>`. Pass your protocol's type to get typed rooms:
 * `useRoomwireClient<typeof chat>()`.
 */
export function useRoomwireClient<P extends Protocol = UntypedProtocol>(): Client<P> {
  const client = useContext(ClientContext)
  if (client === null) {
    throw new Error(
      'useRoomwireClient: no client. Wrap your components in <RoomwireProvider client={…}> or <RoomwireProvider url="…">.',
    )
  }
  return client as Client<P>
}
