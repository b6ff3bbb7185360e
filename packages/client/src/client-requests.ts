import { type RequestEnv, Requests } from './requests'
import type { RoomEnv } from './room-env'
import type { Transport } from './transport'

/** The client's request machinery: its env's clock, protocol and ids, its transport's connection state. */
export function requestsFor(
  env: RoomEnv,
  transport: Transport,
  timeoutMs: number,
  client: Pick<RequestEnv, 'isJoined' | 'write'>,
): Requests {
  return new Requests({
    clock: env.clock,
    protocol: env.protocol,
    timeoutMs,
    newId: env.newMessageId,
    isOpen: () => transport.open,
    limits: () => transport.limits,
    retryDelay: env.retryDelay,
    ...client,
  })
}
