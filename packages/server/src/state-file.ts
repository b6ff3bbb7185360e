import { randomBytes } from 'node:crypto'
import { readFileSync, renameSync, unlinkSync } from 'node:fs'
import { open, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { isRoomServerError, RoomServerError } from './errors'
import { checkRoomSnapshots, type RoomPersistence, type RoomSnapshot } from './room-snapshot'

/** The first line of a state file: what it is, and the version of its layout. */
const HEADER = { format: 'roomwire-state', version: 1 } as const

/** Lines are written in batches of about this many characters (one write call each). */
const WRITE_BATCH = 1 << 20

/** Split a file into its lines (JSON text never holds a raw newline), without one string of it all. */
function lines(bytes: Buffer): string[] {
  const out: string[] = []
  let start = 0
  while (start < bytes.length) {
    let end = bytes.indexOf(0x0a, start)
    if (end === -1) end = bytes.length
    if (end > start) out.push(bytes.toString('utf8', start, end))
    start = end + 1
  }
  return out
}

function invalidFile(path: string, fault: string): RoomServerError {
  return new RoomServerError(
    'invalid_config',
    `state file ${path} ${fault}; it was left as it is: remove it to start every room in a new epoch`,
  )
}

function unreadable(path: string, err: unknown): RoomServerError {
  return new RoomServerError(
    'invalid_config',
    `state file ${path} cannot be read: ${(err as Error).message}`,
    {
      cause: err,
    },
  )
}

/** Parse a state file's text; throws {@link RoomServerError} `invalid_config` naming the fault. */
function parse(bytes: Buffer, path: string): RoomSnapshot[] {
  const [head, ...body] = lines(bytes)
  let header: unknown
  try {
    header = head === undefined ? undefined : JSON.parse(head)
  } catch {}
  const h = header as { format?: unknown; version?: unknown } | undefined
  if (h?.format !== HEADER.format) throw invalidFile(path, 'is not a roomwire state file')
  if (h.version !== HEADER.version) {
    const version = typeof h.version === 'number' ? h.version : 'none'
    throw invalidFile(path, `has layout version ${version}; this server reads ${HEADER.version}`)
  }
  const rooms: unknown[] = []
  for (const [i, line] of body.entries()) {
    try {
      rooms.push(JSON.parse(line))
    } catch {
      throw invalidFile(path, `has a line ${i + 2} that is not JSON`)
    }
  }
  const fault = checkRoomSnapshots(rooms)
  if (fault !== null) throw invalidFile(path, `is damaged: ${fault}`)
  return rooms as RoomSnapshot[]
}

/**
 * A {@link RoomPersistence} in one file, for `createMemoryAdapter({ persist })` (the reference server's
 * `state_file`): a graceful restart keeps every room's epoch, seq and history, so clients resume with
 * `recovered: true` and get exactly what they missed.
 *
 * `load` reads the file and deletes it before any room is restored: a process that restored and then
 * crashed leaves nothing behind, and the next one starts new epochs (its clients get `resync`), never a
 * stale snapshot whose epoch would claim messages acknowledged since. A missing file is no rooms; a file
 * that is not a state file of this version, or damaged, stops the start with `invalid_config` and is
 * left in place. `save` writes a temporary file in the same folder (mode 0600: it holds messages),
 * flushes it to disk and renames it over the path, so the file is always whole or absent.
 * @example
 * const server = createRoomServer({
 *   port: 8080,
 *   adapter: createMemoryAdapter({ persist: fileState('/var/lib/roomwire/state.jsonl') }),
 * })
 */
export function fileState(path: string): RoomPersistence {
  return {
    load() {
      // Claimed by a rename first: of two processes started on one file, only one restores it.
      const claimed = `${path}.${randomBytes(6).toString('hex')}.loading`
      try {
        renameSync(path, claimed)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
        throw unreadable(path, err)
      }
      let rooms: RoomSnapshot[]
      try {
        rooms = parse(readFileSync(claimed), path)
      } catch (err) {
        renameSync(claimed, path)
        throw isRoomServerError(err) ? err : unreadable(path, err)
      }
      // Gone before any room is restored: a crash from here on must start new epochs.
      unlinkSync(claimed)
      return rooms
    },
    async save(rooms) {
      const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`
      const file = await open(temp, 'wx', 0o600)
      try {
        let batch = `${JSON.stringify(HEADER)}\n`
        for (const room of rooms) {
          batch += `${JSON.stringify(room)}\n`
          if (batch.length >= WRITE_BATCH) {
            await file.write(batch)
            batch = ''
          }
        }
        await file.write(batch)
        await file.sync()
      } catch (err) {
        await file.close()
        await rm(temp, { force: true })
        throw err
      }
      await file.close()
      try {
        await rename(temp, path)
      } catch (err) {
        await rm(temp, { force: true })
        throw err
      }
      await syncFolder(dirname(path))
    },
  }
}

/** Flush a folder's entries, so that the rename survives a power loss (best effort: not every OS can). */
async function syncFolder(folder: string): Promise<void> {
  try {
    const handle = await open(folder, 'r')
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {}
}
