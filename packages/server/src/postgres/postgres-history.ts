import pg from 'pg'
import { type Clock, systemClock } from '../clock'
import { RoomServerError } from '../errors'
import type { HistoryStore, StoredMessage, StoreRefusal } from '../history-store'
import { AppendBatcher, appendItem } from './append-batcher'
import { DEFAULT_RETENTION, type RetentionOptions, RetentionSweeper } from './retention'
import { type HeadRow, type MessageRow, rowFrame, storable } from './rows'
import { RoomSequencer, sequenceItem } from './sequencer'
import { historySql } from './sql'
import { StoreLink } from './store-link'
import { type Answer, batchWrite, insertStatements, type Statement, sequenceWrite } from './writes'

/**
 * The part of a node-postgres `Pool` the store uses; a `pg.Pool` is one. Typed by its shape, so the
 * caller's `pg` version and its types are the caller's.
 */
export interface PostgresPool {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>
}

/** Options of {@link createPostgresHistory}. Durations in milliseconds. */
export interface PostgresHistoryOptions {
  /** Where PostgreSQL is (`postgres://user@host:5432/db`); the store then owns its pool. Or give `pool`. */
  connectionString?: string
  /** A pool of the application's; the store never ends it. Or give `connectionString`. */
  pool?: PostgresPool
  /** How long messages are kept, and how the background removal is paced. */
  retention: RetentionOptions
  /**
   * The table, `name` or `schema.name`; created (with the schema) on first use.
   * @default 'roomwire_messages'
   */
  table?: string
  /**
   * How long an append waits for others to share its statement: 0 gathers what arrives in the same
   * event-loop turn. Under load batches grow anyway, while the previous one is being committed.
   * @default 0
   */
  batchDelayMs?: number
  /**
   * Rows per insert statement at most.
   * @default 500
   */
  maxBatchRows?: number
  /**
   * Insert statements being committed at once at most, each on a connection of the pool; a room's appends
   * are in one of them at a time, so each room still commits in order. Keep it below the pool's size so
   * pages and joins find a connection.
   * @default 2
   */
  maxBatchesInFlight?: number
  /**
   * Bytes of `data` per insert statement at most, about (one larger message still goes alone).
   * @default 4_194_304 (4 MiB)
   */
  maxBatchBytes?: number
  /**
   * While PostgreSQL is unreachable, how often to try it again.
   * @default 1000
   */
  probeIntervalMs?: number
  /**
   * With `connectionString`: connections in the store's pool, and how long a connection attempt and a
   * query may take before the store counts PostgreSQL as down.
   * @default { max: 4, connectTimeoutMs: 5000, queryTimeoutMs: 10_000 }
   */
  poolOptions?: { max?: number; connectTimeoutMs?: number; queryTimeoutMs?: number }
  /** Timers and the retention's "now". @default the system clock */
  clock?: Clock
}

/** A {@link HistoryStore} in PostgreSQL, with what it has done so far. */
export interface PostgresHistory extends HistoryStore {
  /** Appends queued or being committed, and rows removed by retention since the store started. */
  stats(): { pending: number; removed: number }
}

const DEFAULT_TABLE = 'roomwire_messages'

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 0 || (value === 0 && name !== 'batchDelayMs')) {
    throw new RoomServerError(
      'invalid_config',
      `postgres history option ${name} is ${value}; expected an integer above 0`,
    )
  }
  return value
}

/** The options checked (a wrong one throws `invalid_config` before anything is opened) and defaulted. */
function checked(options: PostgresHistoryOptions) {
  if ((options.connectionString === undefined) === (options.pool === undefined)) {
    throw new RoomServerError(
      'invalid_config',
      'postgres history needs exactly one of connectionString and pool',
    )
  }
  const sql = historySql(options.table ?? DEFAULT_TABLE)
  const clock = options.clock ?? systemClock
  const batchDelayMs = positiveInt('batchDelayMs', options.batchDelayMs, 0)
  const maxAgeMs = options.retention?.maxAgeMs
  if (maxAgeMs === undefined) {
    throw new RoomServerError('invalid_config', 'postgres history needs retention.maxAgeMs')
  }
  const retention = {
    maxAgeMs: positiveInt('retention.maxAgeMs', maxAgeMs, 0),
    batchRows: positiveInt('retention.batchRows', options.retention.batchRows, DEFAULT_RETENTION.batchRows),
    intervalMs: positiveInt(
      'retention.intervalMs',
      options.retention.intervalMs,
      DEFAULT_RETENTION.intervalMs,
    ),
    pauseMs: positiveInt('retention.pauseMs', options.retention.pauseMs, DEFAULT_RETENTION.pauseMs),
  }
  return {
    sql,
    clock,
    batchDelayMs,
    retention,
    probeIntervalMs: positiveInt('probeIntervalMs', options.probeIntervalMs, 1000),
    batch: {
      maxRows: positiveInt('maxBatchRows', options.maxBatchRows, 500),
      maxBytes: positiveInt('maxBatchBytes', options.maxBatchBytes, 4_194_304),
      maxInFlight: positiveInt('maxBatchesInFlight', options.maxBatchesInFlight, 2),
    },
  }
}

function ownPool(connectionString: string, o: PostgresHistoryOptions['poolOptions'] = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: o.max ?? 4,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
    query_timeout: o.queryTimeoutMs ?? 10_000,
  })
  // An idle connection that dies (a restart, pg_terminate_backend) is reported here; without a listener
  // it would be an uncaught 'error' event. The pool drops it and opens a new one on the next query.
  pool.on('error', () => {})
  return pool
}

function describe(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown }
  const message = typeof e?.message === 'string' ? e.message : String(err)
  return typeof e?.code === 'string' ? `${message} (${e.code})` : message
}

/** A failed statement PostgreSQL answered, refusing only it: `conflict` or `invalid`; else undefined. */
function answeredRefusal(err: unknown): StoreRefusal | undefined {
  const code = (err as { code?: unknown }).code
  // Another writer took the seqs first (appendNext): nothing was written.
  if (code === '23505') return { ok: false, code: 'conflict', message: describe(err) }
  // A data exception (class 22: a NUL or an invalid byte in a value): the store stays up for the rest.
  if (typeof code === 'string' && code.startsWith('22'))
    return { ok: false, code: 'invalid', message: describe(err) }
  return undefined
}

/**
 * A {@link HistoryStore} in PostgreSQL: every room's messages by (room, seq), with their epoch, so a
 * restarted server continues each room where it stopped and clients page back through all of it.
 *
 * Appends that arrive together share one insert statement, and each resolves only once its row is
 * committed. While PostgreSQL is unreachable, every call is answered at once with an `unavailable`
 * refusal (a value, never a throw), `health()` says why, and a probe brings the store back by itself.
 * Rows older than `retention.maxAgeMs` are removed in bounded batches in the background.
 * @example
 * const history = createPostgresHistory({
 *   connectionString: process.env.DATABASE_URL,
 *   retention: { maxAgeMs: 30 * 86_400_000 },
 * })
 */
export function createPostgresHistory(options: PostgresHistoryOptions): PostgresHistory {
  const { sql, clock, batchDelayMs, retention, probeIntervalMs, batch: batchLimits } = checked(options)
  const owned =
    options.connectionString === undefined
      ? undefined
      : ownPool(options.connectionString, options.poolOptions)
  const pool: PostgresPool = owned ?? options.pool!
  let ready: Promise<void> | undefined
  /** close() was called: new appends are refused while the queued ones are committed. */
  let closing = false
  let closed = false

  const link = new StoreLink(async () => (await run('SELECT 1', [])).ok, clock, probeIntervalMs)
  const sweeper = new RetentionSweeper(
    async (olderThan, limit) => {
      const result = await query(sql.sweep, [olderThan, limit])
      return result.ok ? (result.rowCount ?? 0) : undefined
    },
    clock,
    retention,
  )

  /** Create the table on first use (again after a failure, or after someone dropped it). */
  function ensureTable(): Promise<void> {
    ready ??= pool.query(sql.create).then(
      () => sweeper.start(),
      (err: unknown) => {
        ready = undefined
        throw err
      },
    )
    return ready
  }

  function unavailable(): StoreRefusal {
    const message = closing
      ? 'the postgres history store is closed'
      : (link.reason ?? 'postgres is unreachable')
    return { ok: false, code: 'unavailable', message }
  }

  // Parsed and planned once per connection instead of once per batch (issue 18: PostgreSQL's CPU is shared
  // with the server's on small machines). Only on the store's own pool: an application's `pool` is typed
  // by the shape that takes text.
  const insert = insertStatements(sql, owned === undefined ? undefined : 'roomwire_history_insert')

  /** One statement, refused at once while the link is down or the store closed. */
  function query(text: Statement, values: unknown[]): Promise<Answer> {
    if (closed || !link.up) return Promise.resolve(unavailable())
    return run(text, values)
  }

  /** One statement (after the table exists), its failure as a refusal: never a rejection. */
  async function run(text: Statement, values: unknown[]): Promise<Answer> {
    try {
      await ensureTable()
      const result =
        typeof text === 'string' || owned === undefined
          ? await pool.query(typeof text === 'string' ? text : text.text, values)
          : await owned.query({ ...text, values })
      link.answered()
      return { ok: true, rows: result.rows, rowCount: result.rowCount }
    } catch (err) {
      const refusal = answeredRefusal(err)
      if (refusal !== undefined) {
        link.answered()
        return refusal
      }
      // A table dropped under a running store is made again by the next statement.
      if ((err as { code?: unknown }).code === '42P01') ready = undefined
      link.failed(describe(err))
      return { ok: false, code: 'unavailable', message: link.reason ?? describe(err) }
    }
  }

  const schedule =
    batchDelayMs === 0
      ? (flush: () => void) => void setImmediate(flush)
      : (flush: () => void) => void clock.setTimeout(flush, batchDelayMs)
  const batcher = new AppendBatcher(batchWrite(query, insert), {
    ...batchLimits,
    minOverlapRows: 16,
    schedule,
  })
  const { maxRows, maxBytes } = batchLimits
  const sequencer = new RoomSequencer(
    sequenceWrite(query, sql.appendNext),
    { maxRows, maxBytes, maxRaces: 50 },
    schedule,
  )

  return {
    append(message: StoredMessage) {
      if (closing || !link.up) return Promise.resolve(unavailable())
      const data = storable(message)
      if (typeof data !== 'string') return Promise.resolve(data)
      const item = appendItem(message, data)
      batcher.push(item)
      return item.outcome
    },
    appendNext(message, fallback) {
      if (closing || !link.up) return Promise.resolve(unavailable())
      const data = storable({ ...message, epoch: fallback.epoch, seq: fallback.seq + 1 })
      if (typeof data !== 'string') return Promise.resolve(data)
      const item = sequenceItem(message, data, fallback)
      sequencer.push(item)
      return item.outcome
    },
    async head(room) {
      const result = await query(sql.head, [room])
      if (!result.ok) return result
      const row = result.rows[0] as HeadRow | undefined
      return { ok: true, head: row === undefined ? null : { epoch: row.epoch, seq: Number(row.seq) } }
    },
    async page(room, { epoch, before, limit }) {
      const below = before ?? Number.MAX_SAFE_INTEGER
      const result = await query(sql.page, [room, epoch, below, clock.now() - retention.maxAgeMs, limit + 1])
      if (!result.ok) return result
      const rows = result.rows as MessageRow[]
      const more = rows.length > limit
      const frames = rows.slice(0, limit).reverse().map(rowFrame)
      return { ok: true, frames, more }
    },
    async findId(room, id) {
      // One still being committed counts once it is: a retry racing its original is not stored twice.
      const queued = batcher.find(room, id)
      if (queued !== undefined && (await queued.outcome).ok) {
        return { ok: true, found: { epoch: queued.message.epoch, seq: queued.message.seq } }
      }
      const next = await sequencer.find(room, id)?.outcome
      if (next?.ok) return { ok: true, found: { epoch: next.epoch, seq: next.seq } }
      const result = await query(sql.findId, [room, id])
      if (!result.ok) return result
      const row = result.rows[0] as HeadRow | undefined
      return { ok: true, found: row === undefined ? null : { epoch: row.epoch, seq: Number(row.seq) } }
    },
    health: () => link.health(),
    stats: () => ({ pending: batcher.pending + sequencer.pending, removed: sweeper.removed }),
    async close() {
      if (closing) return
      closing = true
      // What was accepted is committed (or refused) before the pool goes: a graceful shutdown acks it.
      await Promise.all([batcher.whenIdle(), sequencer.whenIdle()])
      closed = true
      sweeper.close()
      link.close()
      await owned?.end()
    },
  }
}
