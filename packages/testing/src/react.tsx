import type { Protocol, UntypedProtocol } from '@roomwire/protocol'
import { RoomwireProvider } from '@roomwire/react'
import { type RenderOptions, type RenderResult, render } from '@testing-library/react'
import type { ReactElement, ReactNode } from 'react'
import type { ConnectOptions, TestClient } from './test-client'
import type { TestServer } from './test-server'

/**
 * A `wrapper` for Testing Library's `render` and `renderHook`: its children get `client` through
 * `RoomwireProvider`, so `useRoom`, `useMessages` and the other hooks talk to the test server.
 * @example
 * await using alice = await server.connect({ user: 'alice' })
 * const { result } = renderHook(() => useRoom<Chat>('general'), { wrapper: roomwireWrapper(alice) })
 */
export function roomwireWrapper<P extends Protocol = UntypedProtocol>(
  client: TestClient<P>,
): (props: { children: ReactNode }) => ReactElement {
  // biome-ignore lint/correctness/noComponentHookFactories: made once per render or renderHook call, which keeps it for the tree's life (Testing Library's own wrapper pattern)
  return function RoomwireTestWrapper({ children }) {
    return <RoomwireProvider client={client}>{children}</RoomwireProvider>
  }
}

/** Options of {@link renderWithRoomwire}: who renders, and Testing Library's own options. */
export type RenderWithRoomwireOptions<P extends Protocol = UntypedProtocol> = ConnectOptions<P> & {
  server: TestServer<P>
  /** Testing Library's `render` options, except `wrapper` (the kit's provider is the wrapper). */
  render?: Omit<RenderOptions, 'wrapper'>
}

/**
 * Connect a test client as `user` and render `ui` inside a provider of it. The client closes with
 * the server; Testing Library's `cleanup` unmounts the tree.
 * @example
 * const { client, findByText } = await renderWithRoomwire(<Chat room="general" />, { server, user: 'alice' })
 */
export async function renderWithRoomwire<P extends Protocol = UntypedProtocol>(
  ui: ReactElement,
  options: RenderWithRoomwireOptions<P>,
): Promise<RenderResult & { client: TestClient<P> }> {
  const { server, render: renderOptions, ...connect } = options
  const client = await server.connect(connect)
  const result = render(ui, { ...renderOptions, wrapper: roomwireWrapper(client) })
  return Object.assign(result, { client })
}
