import type { StoredMessage, StoreRefusal, UnsequencedMessage } from '../history-store'

/** A row of a page query (bigint columns come back as strings from node-postgres). */
export interface MessageRow {
  room: string
  seq: string
  event: string
  /** The stored JSON text of `data`, exactly as it was written (`json`, not `jsonb`, keeps it so). */
  data: string
  sender: string
  sender_user: string | null
  message_id: string | null
  ts: string
}

/** A row of a head or message id query. */
export interface HeadRow {
  epoch: string
  seq: string
}

/**
 * A row's `message` frame as JSON text, field for field and in the order live delivery sends them (`type`,
 * `room`, `event`, `data`, `from`, `seq`, `ts`, `id?`, `user?`): `data` goes in as stored, without a parse
 * and a re-serialization, and every other field is a string or a number.
 */
export function rowFrame(row: MessageRow): string {
  const s = JSON.stringify
  const user = row.sender_user === null ? '' : `,"user":${s(row.sender_user)}`
  const id = row.message_id === null ? '' : `,"id":${s(row.message_id)}`
  return `{"type":"message","room":${s(row.room)},"event":${s(row.event)},"data":${row.data},"from":${s(row.sender)},"seq":${Number(row.seq)},"ts":${Number(row.ts)}${id}${user}}`
}

/** One row's nine insert parameters (`sql.ts`'s INSERT_COLUMNS), pushed onto `values`. */
function pushRow(values: unknown[], m: StoredMessage, data: string): void {
  values.push(m.room, m.seq, m.epoch, m.event, data, m.from, m.user ?? null, m.id ?? null, m.ts)
}

/**
 * The VALUES insert's parameters for a batch, row after row. Each is passed as it is: node-postgres
 * encodes text to UTF-8 (a lone surrogate becomes U+FFFD) and numbers as their digits.
 */
export function insertValues(batch: readonly { message: StoredMessage; data: string }[]): unknown[] {
  const values: unknown[] = []
  for (let i = 0; i < batch.length; i++) pushRow(values, batch[i]!.message, batch[i]!.data)
  return values
}

/** The array insert's parameters for a batch: one array a column, then the row count. */
export function insertArrays(batch: readonly { message: StoredMessage; data: string }[]): unknown[] {
  const columns: unknown[][] = [[], [], [], [], [], [], [], [], []]
  const row: unknown[] = []
  for (const { message, data } of batch) {
    row.length = 0
    pushRow(row, message, data)
    for (let i = 0; i < 9; i++) columns[i]!.push(row[i])
  }
  return [...columns, batch.length]
}

/**
 * The sequenced insert's parameters for one room's batch (`sql.ts`'s appendNext, after room, epoch and
 * seq): one array per column, the seqs left to the statement.
 */
export function nextColumns(batch: readonly { message: UnsequencedMessage; data: string }[]): unknown[][] {
  const columns: unknown[][] = [[], [], [], [], [], []]
  for (const { message: m, data } of batch) {
    const row = [m.event, data, m.from, m.user ?? null, m.id ?? null, m.ts]
    for (let i = 0; i < row.length; i++) columns[i]!.push(row[i])
  }
  return columns
}

/** Why a message cannot be stored as it is, or null. PostgreSQL `text` cannot hold U+0000. */
export function unstorable(message: StoredMessage): string | null {
  // Field by field, without a list or a closure per message: this runs on every publish.
  const nul =
    message.user?.includes('\0') === true
      ? 'user'
      : message.id?.includes('\0') === true
        ? 'id'
        : message.from.includes('\0')
          ? 'from'
          : message.epoch.includes('\0')
            ? 'epoch'
            : undefined
  if (nul !== undefined) return `${nul} holds a NUL character, which PostgreSQL text cannot store`
  if (!Number.isSafeInteger(message.seq) || message.seq < 1) return 'seq must be a positive safe integer'
  if (!Number.isSafeInteger(message.ts)) return 'ts must be a safe integer (epoch milliseconds)'
  return null
}

/** `data` as JSON text for the `json` column; undefined (not JSON) is refused by the caller. */
export function dataText(data: unknown): string | undefined {
  return JSON.stringify(data) as string | undefined
}

/** `data` as JSON text, or why the message cannot be stored. */
export function storable(
  message: UnsequencedMessage & { seq: number; epoch: string },
): string | StoreRefusal {
  const fault = unstorable(message)
  let data: string | undefined
  try {
    data = dataText(message.data)
  } catch {}
  if (fault !== null || data === undefined) {
    return { ok: false, code: 'invalid', message: fault ?? 'data is not a JSON value' }
  }
  return data
}
