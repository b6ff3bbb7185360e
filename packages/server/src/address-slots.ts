import type { Duplex } from 'node:stream'

/** Sockets of one address: admitted (authenticating or open) and refused but not yet closed. */
interface Slots {
  readonly key: string
  open: number
  refusing: number
}

/**
 * Sockets counted per client address (an IPv6 address by its /64) from the upgrade request until the
 * socket closes: those admitted, for the per-address cap, and those refused and still closing, for the
 * 429 answer. One shared `close` listener per instance, and no closure per socket: a socket finds its
 * slots through a WeakMap. An address is forgotten when its last socket closes.
 */
export class AddressSlots {
  readonly #byAddress = new Map<string, Slots>()
  readonly #open = new WeakMap<Duplex, Slots>()
  readonly #refusing = new WeakMap<Duplex, Slots>()
  readonly #onClose: (this: Duplex) => void

  constructor() {
    const slots = this
    this.#onClose = function onSocketClosed(this: Duplex) {
      slots.#closed(this)
    }
  }

  /** Sockets of `key` admitted and not yet closed. */
  open(key: string): number {
    return this.#byAddress.get(key)?.open ?? 0
  }

  /** Sockets of `key` refused and still closing. */
  refusing(key: string): number {
    return this.#byAddress.get(key)?.refusing ?? 0
  }

  /** Count `socket` as admitted for `key` until it closes. */
  admit(socket: Duplex, key: string): void {
    const slots = this.#slotsOf(key)
    slots.open++
    this.#open.set(socket, slots)
    // `on`, not `once`: a socket closes once, and `once` wraps the listener in a closure and a state
    // object of every connection.
    socket.on('close', this.#onClose)
  }

  /** Count `socket` as refused and closing for `key` until it closes. */
  refuse(socket: Duplex, key: string): void {
    const slots = this.#slotsOf(key)
    slots.refusing++
    this.#refusing.set(socket, slots)
    if (!this.#open.has(socket)) socket.on('close', this.#onClose)
  }

  #slotsOf(key: string): Slots {
    let slots = this.#byAddress.get(key)
    if (slots === undefined) {
      slots = { key, open: 0, refusing: 0 }
      this.#byAddress.set(key, slots)
    }
    return slots
  }

  #closed(socket: Duplex): void {
    const open = this.#open.get(socket)
    if (open !== undefined) open.open--
    const refusing = this.#refusing.get(socket)
    if (refusing !== undefined) refusing.refusing--
    // A socket is counted once: the next close of it (there is none; a test's fake may) changes nothing.
    this.#open.delete(socket)
    this.#refusing.delete(socket)
    const slots = open ?? refusing
    if (slots !== undefined && slots.open <= 0 && slots.refusing <= 0) this.#byAddress.delete(slots.key)
  }
}
