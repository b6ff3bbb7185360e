/** Anything with Node's IPC shape: a `ChildProcess` seen from the parent, or `process` seen from a child. */
export interface IpcChannel {
  // biome-ignore lint/suspicious/noExplicitAny: ChildProcess and process type `send` differently.
  send?: ((message: any) => boolean) | undefined
  on(event: 'message', listener: (message: unknown) => void): unknown
  off(event: 'message', listener: (message: unknown) => void): unknown
}

/** A request over IPC: `cmd` names the operation, `args` its input. */
export interface RpcRequest {
  rpc: 'req'
  id: number
  cmd: string
  args: unknown
}

interface RpcResponse {
  rpc: 'res'
  id: number
  ok: boolean
  value: unknown
}

/** Handles one request; may be async. A thrown error becomes a rejection on the other side. */
export type RpcHandler = (cmd: string, args: unknown) => unknown

/** Request/response over a Node IPC channel, in both directions. */
export interface Rpc {
  /** Send a request and wait for its response. */
  request<T = unknown>(cmd: string, args?: unknown): Promise<T>
  /** Stop listening; pending requests are rejected. */
  dispose(): void
}

function isResponse(m: unknown): m is RpcResponse {
  return typeof m === 'object' && m !== null && (m as { rpc?: unknown }).rpc === 'res'
}

function isRequest(m: unknown): m is RpcRequest {
  return typeof m === 'object' && m !== null && (m as { rpc?: unknown }).rpc === 'req'
}

/** Wire request/response on `channel`, answering incoming requests with `handler`. */
export function createRpc(channel: IpcChannel, handler: RpcHandler = unknownCommand): Rpc {
  let nextId = 1
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  const onMessage = (m: unknown): void => {
    if (isResponse(m)) {
      const p = pending.get(m.id)
      if (!p) return
      pending.delete(m.id)
      if (m.ok) p.resolve(m.value)
      else p.reject(new Error(String(m.value)))
    } else if (isRequest(m)) {
      Promise.resolve()
        .then(() => handler(m.cmd, m.args))
        .then(
          (value) => channel.send?.({ rpc: 'res', id: m.id, ok: true, value }),
          (error: unknown) =>
            channel.send?.({
              rpc: 'res',
              id: m.id,
              ok: false,
              value: error instanceof Error ? (error.stack ?? error.message) : String(error),
            }),
        )
    }
  }
  channel.on('message', onMessage)
  return {
    request<T>(cmd: string, args?: unknown): Promise<T> {
      const id = nextId++
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject })
        if (!channel.send?.({ rpc: 'req', id, cmd, args })) {
          pending.delete(id)
          reject(new Error(`could not send '${cmd}': the IPC channel is closed`))
        }
      })
    },
    dispose() {
      channel.off('message', onMessage)
      for (const p of pending.values()) p.reject(new Error('RPC channel disposed'))
      pending.clear()
    },
  }
}

function unknownCommand(cmd: string): never {
  throw new Error(`unknown command '${cmd}'`)
}
