import net from 'node:net'

/** A loopback TCP proxy the test controls: cut every connection without a close frame, or refuse new ones. */
export interface TcpProxy {
  readonly port: number
  /** Connections currently through the proxy. */
  readonly open: number
  /** Destroy every connection at once (RST): the client sees 1006, the server a dead socket. */
  cut(): void
  /** While true, new connections are destroyed as soon as they arrive. */
  refuse: boolean
  close(): Promise<void>
}

export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[net.Socket, net.Socket]>()
  const server = net.createServer((client) => {
    if (proxy.refuse) {
      client.resetAndDestroy()
      return
    }
    const upstream = net.connect(targetPort, '127.0.0.1')
    const pair: [net.Socket, net.Socket] = [client, upstream]
    pairs.add(pair)
    const drop = () => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as net.AddressInfo
  const proxy: TcpProxy = {
    port: address.port,
    get open() {
      return pairs.size
    },
    refuse: false,
    cut() {
      for (const [client, upstream] of pairs) {
        client.resetAndDestroy()
        upstream.resetAndDestroy()
      }
      pairs.clear()
    },
    async close() {
      proxy.cut()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
  return proxy
}
