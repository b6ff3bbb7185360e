import type { ClientSnapshot } from '@roomwire/client'
import { useRoomwireClient } from './context'
import { serverClientSnapshot } from './idle-snapshot'
import { useSelector } from './use-selector'

const whole = (snapshot: ClientSnapshot) => snapshot

/**
 * The connection's state: `status` (`connecting`, `open`, `reconnecting`, `closed`, `unauthorized`), and
 * with it `retryAt` (when the next attempt starts, for a countdown), `attempt`, `lastError` and the
 * connection `id`. Server rendering shows `connecting`.
 * @example
 * const { status, retryAt } = useConnectionStatus()
 */
export function useConnectionStatus(): ClientSnapshot
export function useConnectionStatus<T>(
  selector: (snapshot: ClientSnapshot) => T,
  isEqual?: (a: T, b: T) => boolean,
): T
export function useConnectionStatus<T>(
  selector: (snapshot: ClientSnapshot) => T = whole as (snapshot: ClientSnapshot) => T,
  isEqual?: (a: T, b: T) => boolean,
): T {
  const client = useRoomwireClient()
  return useSelector(client.subscribe, client.getSnapshot, () => serverClientSnapshot, selector, isEqual)
}
