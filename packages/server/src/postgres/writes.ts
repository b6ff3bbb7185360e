import type { StoreRefusal } from '../history-store'
import { type AppendItem, type BatchWrite, rowKey } from './append-batcher'
import { type HeadRow, insertArrays, insertValues, nextColumns } from './rows'
import type { SequenceItem, SequenceWrite } from './sequencer'
import { type HistorySql, MAX_VALUES_ROWS } from './sql'

/** SQL text, or a named statement: prepared once per connection of the store's own pool. */
export type Statement = string | { name: string; text: string }
/** What a statement gave, or why it was not run or failed (`conflict`: a primary key refused the rows). */
export type Answer = { ok: true; rows: unknown[]; rowCount: number | null } | StoreRefusal
/** The store's statement runner: refuses at once while PostgreSQL is down or the store closed. */
export type Query = (text: Statement, values: unknown[]) => Promise<Answer>

/** The insert statements of a batch, by its row count: prepared (`name`d) when `prefix` is given. */
export function insertStatements(
  sql: Pick<HistorySql, 'insert' | 'insertArrays'>,
  prefix: string | undefined,
): (rows: number) => Statement {
  const named = (name: string, text: string): Statement =>
    prefix === undefined ? text : { name: `${prefix}_${name}`, text }
  const values: Statement[] = []
  const arrays = named('arrays', sql.insertArrays)
  return (rows) => {
    if (rows > MAX_VALUES_ROWS) return arrays
    values[rows] ??= named(String(rows), sql.insert(rows))
    return values[rows]!
  }
}

/**
 * The batcher's write: messages whose seqs the caller gave, in one insert statement; which (room, seq)
 * rows were new (a row already there, from a retry, is not inserted again).
 */
export function batchWrite(
  query: Query,
  insert: (rows: number) => Statement,
): (batch: AppendItem[]) => Promise<BatchWrite> {
  return async (batch) => {
    const n = batch.length
    const values = n > MAX_VALUES_ROWS ? insertArrays(batch) : insertValues(batch)
    const result = await query(insert(n), values)
    if (!result.ok) return result
    const { n: inserted, rows } = result.rows[0] as { n: number; rows: [string, number][] | null }
    if (inserted === n) return { ok: true, inserted: 'all' }
    const keys = new Set<string>()
    // json_agg of no rows is null: none went in.
    for (const [room, seq] of rows ?? []) keys.add(rowKey(room, seq))
    return { ok: true, inserted: keys }
  }
}

/**
 * The sequencer's write (issue 18): one room's messages at the seqs after its newest row, the first
 * item's fallback head when it has none; `raced` when another writer took those seqs first.
 */
export function sequenceWrite(
  query: Query,
  appendNext: string,
): (room: string, batch: SequenceItem[]) => Promise<SequenceWrite> {
  return async (room, batch) => {
    const { epoch, seq } = batch[0]!.fallback
    const result = await query(appendNext, [room, epoch, seq, ...nextColumns(batch)])
    if (!result.ok) return result.code === 'conflict' ? { ok: false, code: 'raced' } : result
    const rows = result.rows as HeadRow[]
    const seqs = rows.map((row) => Number(row.seq)).sort((a, b) => a - b)
    return { ok: true, epoch: rows[0]!.epoch, seqs }
  }
}
