import { ROOM_NAME_PATTERN } from '@roomwire/protocol'
import { useCallback, useEffect, useState } from 'react'
import { DEFAULT_ROOMS, LOBBY } from './protocol'

const ROOMS_KEY = 'roomwire-demo:rooms'
/** The server's default `rooms.max_per_connection` is 10, and the lobby takes one. */
const MAX_OPEN = 9

const isRoom = (name: string) => ROOM_NAME_PATTERN.test(name) && name !== LOBBY

function hashRoom(): string | null {
  const name = decodeURIComponent(location.hash.slice(1))
  return isRoom(name) ? name : null
}

function savedRooms(): string[] {
  try {
    const saved: unknown = JSON.parse(localStorage.getItem(ROOMS_KEY) ?? 'null')
    if (Array.isArray(saved) && saved.length > 0 && saved.every((r) => typeof r === 'string' && isRoom(r)))
      return saved
  } catch {
    // A corrupt entry falls back to the defaults.
  }
  return [DEFAULT_ROOMS[0] as string]
}

/**
 * The rooms you have open and the one on screen, kept in localStorage; the address's `#room` opens and
 * shows a room, so a link to a room works.
 */
export function useOpenRooms() {
  const [openRooms, setOpenRooms] = useState(() => {
    const linked = hashRoom()
    const saved = savedRooms()
    return linked === null || saved.includes(linked) ? saved : [...saved, linked].slice(-MAX_OPEN)
  })
  const [active, setActive] = useState(() => hashRoom() ?? openRooms[0] ?? '')

  useEffect(() => localStorage.setItem(ROOMS_KEY, JSON.stringify(openRooms)), [openRooms])
  useEffect(() => {
    history.replaceState(null, '', active === '' ? location.pathname : `#${active}`)
  }, [active])

  const open = useCallback((room: string) => {
    setOpenRooms((rooms) => (rooms.includes(room) ? rooms : [...rooms, room].slice(-MAX_OPEN)))
    setActive(room)
  }, [])
  useEffect(() => {
    const onHash = () => {
      const room = hashRoom()
      if (room !== null) open(room)
    }
    window.addEventListener('hashchange', onHash)
    return () => window.removeEventListener('hashchange', onHash)
  }, [open])

  const close = useCallback(
    (room: string) => {
      const next = openRooms.filter((r) => r !== room)
      setOpenRooms(next)
      if (active === room) setActive(next[0] ?? '')
    },
    [openRooms, active],
  )
  return { openRooms, active, open, close }
}
