import { ws } from 'msw'
import { setupServer } from 'msw/node'

export const URL = 'ws://roomwire.test/ws'

type Frame = Record<string, unknown> & { type: string }

interface Connection {
  id: string
  send(frame: Record<string, unknown>): void
  close(code?: number, reason?: string): void
  open: boolean
}

/**
 * A scripted roomwire server on msw's WebSocket mocking: exact frames, and a record of what the client sent.
 * It answers `join` (with the members it was told about), `publish` (ack with the next seq, or `refuse`),
 * `presence` and `leave`; anything else is recorded only.
 */
export function scriptedServer() {
  const link = ws.link(`${URL}*`)
  const state = {
    connections: [] as Connection[],
    received: [] as Frame[],
    /** Other members to list in `joined`, by room. */
    others: new Map<string, Array<Record<string, unknown>>>(),
    /** Answer the next publish with this error code instead of an ack. */
    refuse: null as string | null,
    seq: 0,
  }
  const handler = link.addEventListener('connection', ({ client }) => {
    const id = `c${state.connections.length + 1}`
    const connection: Connection = {
      id,
      open: true,
      send: (frame) => client.send(JSON.stringify(frame)),
      close: (code, reason) => client.close(code, reason),
    }
    state.connections.push(connection)
    client.addEventListener('close', () => {
      connection.open = false
    })
    connection.send({
      type: 'welcome',
      id,
      protocol: 1,
      heartbeat: { interval: 30_000, timeout: 10_000 },
      limits: { maxMessageBytes: 65_536, maxRoomsPerConnection: 10 },
    })
    client.addEventListener('message', (event) => {
      const frame = JSON.parse(String(event.data)) as Frame
      state.received.push(frame)
      const ref = frame.ref
      switch (frame.type) {
        case 'join': {
          const self = { id, ...(frame.presence === undefined ? {} : { presence: frame.presence }) }
          const others = state.others.get(frame.room as string) ?? []
          connection.send({
            type: 'joined',
            room: frame.room,
            seq: state.seq,
            epoch: 'e1',
            members: [...others, self],
            ref,
          })
          break
        }
        case 'publish':
          if (state.refuse !== null) {
            connection.send({
              type: 'error',
              code: state.refuse,
              message: `refused: ${state.refuse}`,
              ref,
              room: frame.room,
            })
            state.refuse = null
          } else {
            state.seq += 1
            connection.send({ type: 'ack', ref, seq: state.seq })
          }
          break
        case 'presence':
          connection.send({ type: 'ack', ref })
          break
        case 'leave':
          connection.send({ type: 'left', room: frame.room, ref })
          break
      }
    })
  })
  const server = setupServer(handler)
  return {
    server,
    state,
    sent: (type: string) => state.received.filter((f) => f.type === type),
    openConnections: () => state.connections.filter((c) => c.open),
    last: () => state.connections.at(-1) as Connection,
  }
}
