import type { Connection } from './connection'

/**
 * The join each connection has in flight, as a promise that settles (never rejects) once the join is done
 * with the adapter, its cleanup included. `handlers/join.ts` records it; the close path (`sessions.ts`)
 * waits for it: a connection that closed must not be removed from the adapter before a join that
 * outlived its socket left the room again. A WeakMap, so an idle connection carries nothing for it.
 */
const settledJoins = new WeakMap<Connection, Promise<void>>()
const ignore = () => {}

/** Run `work` as the connection's join in flight until it settles (a newer join replaces it). */
export async function trackJoin<T>(connection: Connection, work: Promise<T>): Promise<T> {
  const settled = work.then(ignore, ignore)
  settledJoins.set(connection, settled)
  try {
    return await work
  } finally {
    if (settledJoins.get(connection) === settled) settledJoins.delete(connection)
  }
}

/** The connection's join in flight, settled once it is done with the adapter; undefined when none is. */
export function joinInFlight(connection: Connection): Promise<void> | undefined {
  return settledJoins.get(connection)
}
