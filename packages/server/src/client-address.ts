import type { IncomingMessage } from 'node:http'
import { BlockList, isIP } from 'node:net'
import { RoomServerError } from './errors'

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) as `1.2.3.4`; zone ids dropped. */
function normalize(address: string): string {
  const zone = address.indexOf('%')
  const bare = zone === -1 ? address : address.slice(0, zone)
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)
  return mapped === null ? bare.toLowerCase() : mapped[1]!
}

/** One `X-Forwarded-For` entry as an address: `1.2.3.4`, `1.2.3.4:80`, `[::1]:80` or `::1`; else undefined. */
function forwardedAddress(entry: string): string | undefined {
  let value = entry.trim()
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(value)
  if (bracket !== null) value = bracket[1]!
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(value)) value = value.slice(0, value.indexOf(':'))
  return isIP(value) === 0 ? undefined : normalize(value)
}

/** The proxies whose `X-Forwarded-For` is believed, from addresses and CIDR ranges. */
export function parseTrustedProxies(entries: readonly string[]): BlockList | undefined {
  if (entries.length === 0) return undefined
  const list = new BlockList()
  for (const entry of entries) {
    if (typeof entry !== 'string') {
      throw new RoomServerError('invalid_config', 'option trustedProxies must be a list of strings')
    }
    const slash = entry.indexOf('/')
    const address = normalize(slash === -1 ? entry : entry.slice(0, slash))
    const family = isIP(address)
    const prefix = slash === -1 ? undefined : Number(entry.slice(slash + 1))
    const max = family === 6 ? 128 : 32
    if (family === 0 || (prefix !== undefined && (!Number.isInteger(prefix) || prefix < 0 || prefix > max))) {
      throw new RoomServerError(
        'invalid_config',
        `option trustedProxies has ${JSON.stringify(entry.slice(0, 64))}; expected IP addresses or CIDR ranges such as 10.0.0.0/8`,
      )
    }
    const type = family === 6 ? 'ipv6' : 'ipv4'
    if (prefix === undefined) list.addAddress(address, type)
    else list.addSubnet(address, prefix, type)
  }
  return list
}

/**
 * The address of the client behind a request. The TCP peer, unless it is a trusted proxy: then
 * `X-Forwarded-For` is read from the right (each proxy appends the address it was reached from), skipping
 * trusted proxies, and the first address that is not one is the client. Entries left of it were written by
 * the client itself and are never believed. Without trusted proxies the header is ignored, since anyone can
 * send it.
 */
export function clientAddress(request: IncomingMessage, trusted: BlockList | undefined): string | undefined {
  const peer = peerAddress(request.socket)
  if (peer === undefined) return undefined
  let address = normalize(peer)
  if (trusted === undefined) return address
  const header = request.headers['x-forwarded-for']
  // Node joins repeated X-Forwarded-For headers with ", "; an array only comes from a hand-made request.
  const forwarded = Array.isArray(header) ? header.join(',') : header
  if (forwarded === undefined) return address
  const hops = forwarded.split(',')
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!isTrusted(trusted, address)) return address
    const hop = forwardedAddress(hops[i]!)
    // A malformed hop: keep the last address a trusted proxy vouched for.
    if (hop === undefined) return address
    address = hop
  }
  return address
}

/**
 * The socket's peer address, read without leaving Node's cache of it behind: `remoteAddress` keeps the
 * whole peer record (`_peername`: an object, the address and family strings, about 80 bytes) on the socket
 * for its life, for every idle connection (issue 14's idle-memory figure), while the address is all a
 * connection keeps. A later read asks the socket again (undefined once it is closed, as Node documents).
 */
function peerAddress(socket: IncomingMessage['socket']): string | undefined {
  const address = socket.remoteAddress
  const cached = socket as unknown as { _peername?: unknown }
  if (cached._peername !== undefined) cached._peername = undefined
  return address
}

function isTrusted(list: BlockList, address: string): boolean {
  return list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4')
}

/** The eight 16-bit groups of an IPv6 address, as 4-digit hex. */
function ipv6Groups(address: string): string[] {
  let text = address
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (v4 !== null) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const middle = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill('0')
  return [...left, ...middle, ...right].map((group) => group.padStart(4, '0'))
}

/**
 * Whether `address` is this host's own (127.0.0.0/8, ::1): the host itself, or a reverse proxy on it whose
 * clients all arrive from here unless it is trusted and sends X-Forwarded-For. Such peers are not capped
 * per address nor backed off: one cap for every client of a local proxy would refuse all of them at once.
 */
export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address))
}

/**
 * The key connection caps and failed-auth backoff count by: an IPv4 address as is, an IPv6 address by its
 * /64 prefix, since one host is routinely given a whole /64 and could otherwise take a new address for
 * every connection.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined) return 'unknown'
  if (isIP(address) !== 6) return address
  return `${ipv6Groups(address).slice(0, 4).join(':')}::/64`
}
