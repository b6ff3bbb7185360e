import { io } from 'socket.io-client'
import { type BenchPayload, type Connector, DOUBLE_REQUEST, type LoadConnection } from './load-connection'

interface Delivered {
  data: BenchPayload
}

/** A load-generator connection through socket.io-client, as Socket.IO's users run it (WebSocket only). */
export const connectSocketIo: Connector = (port) =>
  new Promise((resolve, reject) => {
    // forceNew: without it every client in this process would share one multiplexed Manager and socket.
    const socket = io(`http://127.0.0.1:${port}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
    })
    const conn: LoadConnection = {
      onMessage: undefined,
      membershipFrames: 0,
      memberCount: 0,
      closeCode: undefined,
      onClose: undefined,
      async join(room) {
        await socket.emitWithAck('join', room)
      },
      publish(room, data) {
        socket.emit('publish', { room, event: 'tick', data })
      },
      async request(room, data) {
        await socket.emitWithAck('publish', { room, event: 'tick', data })
      },
      async call(n) {
        const output = (await socket.emitWithAck(DOUBLE_REQUEST, { n })) as { n: number }
        return output.n
      },
      close() {
        socket.disconnect()
      },
    }
    socket.on('message', (m: Delivered) => conn.onMessage?.(m.data.t))
    socket.on('disconnect', () => {
      conn.closeCode = 1006
      conn.onClose?.(1006)
    })
    socket.once('connect', () => resolve(conn))
    socket.once('connect_error', reject)
  })
