/**
 * Marks of this package's error classes by registered symbols, so a check holds across copies of the
 * package: the reference server's `dist/cli.js` is a bundle of its own, and a program that loads both the
 * ESM and the CJS build has two of each class. `instanceof` fails between copies; a registered symbol
 * does not.
 */
export const REQUEST_ERROR = Symbol.for('roomwire.server.RequestError')
export const REQUEST_REFUSAL = Symbol.for('roomwire.server.RequestRefusal')
export const ROOM_SERVER_ERROR = Symbol.for('roomwire.server.RoomServerError')

/** Whether `value` carries `brand` (set to true by the class's constructor). */
export function hasBrand(value: unknown, brand: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[brand] === true
}
