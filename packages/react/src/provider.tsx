import { type Client, type ClientOptions, createClient } from '@roomwire/client'
import type { Protocol, UntypedProtocol } from '@roomwire/protocol'
import { type ReactNode, useEffect, useState } from 'react'
import { ClientContext } from './context'

export type RoomwireProviderProps<P extends Protocol = UntypedProtocol> =
  | {
      /** A client you created (and close) yourself, usually once at module level. */
      client: Client<P>
      children?: ReactNode
    }
  | {
      /** The server's WebSocket URL: the provider creates the client, connects after mount and closes it on unmount. */
      url: string
      /** Everything else `createClient` takes. Read once, when the provider mounts. */
      options?: Omit<ClientOptions<P>, 'url' | 'autoConnect'>
      children?: ReactNode
    }

/**
 * Makes a roomwire client available to the hooks below it.
 * @example
 * <RoomwireProvider url="wss://example.com/ws" options={{ protocol: chat }}>
 *   <Chat />
 * </RoomwireProvider>
 */
export function RoomwireProvider<P extends Protocol = UntypedProtocol>(
  props: RoomwireProviderProps<P>,
): ReactNode {
  const given = 'client' in props ? props.client : null
  // Created without connecting, so rendering on a server opens no socket; the effect below connects.
  const [owned] = useState(() =>
    'client' in props
      ? null
      : createClient<P>({ ...props.options, url: props.url, autoConnect: false } as ClientOptions<P>),
  )
  useEffect(() => {
    if (owned === null) return
    const timer = pendingClose.get(owned)
    if (timer !== undefined) {
      clearTimeout(timer)
      pendingClose.delete(owned)
    }
    owned.connect()
    // Closing waits a tick: StrictMode runs this cleanup and the effect again at once, and that must not
    // cost a second socket.
    return () => {
      pendingClose.set(
        owned,
        setTimeout(() => {
          pendingClose.delete(owned)
          owned.close()
        }, 0),
      )
    }
  }, [owned])
  return <ClientContext.Provider value={given ?? owned}>{props.children}</ClientContext.Provider>
}

const pendingClose = new WeakMap<object, ReturnType<typeof setTimeout>>()
