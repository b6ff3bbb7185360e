import { RoomServerError } from '../errors'

/** One part of a table name: unquoted-identifier characters, short enough for derived index names. */
const NAME_PART = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/

/** The statements of one history table, its name already checked and quoted. */
export interface HistorySql {
  /** Create the schema (when named), the table and its indexes, under a lock (one simple query). */
  create: string
  /**
   * Insert a batch of `rows` rows, nine parameters a row in the order of {@link INSERT_COLUMNS}; one row
   * back: `n` inserted, and `rows` ([room, seq] of each) only when fewer than `rows` were.
   */
  insert(rows: number): string
  /**
   * The same for a batch of more than {@link MAX_VALUES_ROWS} rows: nine arrays, one a column, and the
   * row count ($10).
   */
  insertArrays: string
  /**
   * Insert one room's batch at the seqs after its newest row, in that row's epoch: $1 room, $2 epoch and
   * $3 seq when the room has no row, then six arrays (event, data, sender, user, message id, ts). Two
   * writers racing for the same seqs: the later one fails on the primary key (23505) and writes nothing.
   */
  appendNext: string
  /** A room's newest row: $1 room. */
  head: string
  /** $1 room, $2 epoch, $3 before (exclusive), $4 oldest ts kept, $5 limit: newest first. */
  page: string
  /** $1 room, $2 message id. */
  findId: string
  /** Delete at most $2 rows older than $1 (ts, epoch ms). */
  sweep: string
}

/**
 * Rows a VALUES insert takes at most; a larger batch goes as arrays. Each row count is its own prepared
 * statement on each connection (about 3 KB of PostgreSQL's memory a row of it, so 6 MB for all up to 64),
 * and above it the per-statement cost that preparing saves is spread over enough rows to matter less.
 */
export const MAX_VALUES_ROWS = 64

/** The insert's columns, in the order of each row's parameters. */
export const INSERT_COLUMNS = 'room, seq, epoch, event, data, sender, sender_user, message_id, ts'

/**
 * The insert of `rows` rows into `t` as one VALUES list of parameters. Issue 18: in PostgreSQL this costs
 * about 7 µs a row against 11 to 13 for the same rows read from one JSON parameter with
 * `json_to_recordset` (prepared, 30 to 50 rows a statement), and node-postgres passes each text parameter
 * as it is, without the escape pass an array parameter takes. One row back, not one per message: the
 * count, and which rows went in only when some did not (a retry of a batch that committed unanswered).
 */
function insertRows(t: string, rows: number): string {
  const values: string[] = []
  for (let row = 0, p = 0; row < rows; row++) {
    values.push(`($${++p},$${++p},$${++p},$${++p},$${++p},$${++p},$${++p},$${++p},$${++p})`)
  }
  return insertFrom(t, `VALUES ${values.join(',')}`, String(rows))
}

/** An insert of rows from `source`, `rows` of them, answered with the count and the missing ones. */
function insertFrom(t: string, source: string, rows: string): string {
  return `WITH ins AS (
        INSERT INTO ${t} (${INSERT_COLUMNS}) ${source}
        ON CONFLICT (room, seq) DO NOTHING
        RETURNING room, seq
      )
      SELECT count(*)::int AS n, CASE WHEN count(*) < ${rows} THEN json_agg(json_build_array(room, seq)) END AS rows
      FROM ins`
}

/**
 * Check `table` (`name` or `schema.name`, unquoted identifier characters) and build its statements.
 * Throws {@link RoomServerError} `invalid_config` for any other name: it is spliced into SQL.
 */
export function historySql(table: string): HistorySql {
  const parts = table.split('.')
  if (parts.length > 2 || !parts.every((p) => NAME_PART.test(p))) {
    throw new RoomServerError(
      'invalid_config',
      `postgres history table ${JSON.stringify(table.slice(0, 80))} must be name or schema.name, each 1 to 48 characters of A-Z a-z 0-9 _ not starting with a digit`,
    )
  }
  const name = parts[parts.length - 1]!
  const schema = parts.length === 2 ? parts[0]! : undefined
  const q = (id: string) => `"${id}"`
  const t = schema === undefined ? q(name) : `${q(schema)}.${q(name)}`
  // A plain literal: the name was checked above and holds no quote.
  const lockKey = `'roomwire.history:${table}'`
  return {
    // One simple query runs as one implicit transaction: the advisory lock holds until its end, so two
    // servers starting on a fresh database do not race on CREATE ... IF NOT EXISTS (which can fail on the
    // catalog's unique index when two run at once).
    create: [
      `SELECT pg_advisory_xact_lock(hashtext(${lockKey}))`,
      schema === undefined ? '' : `CREATE SCHEMA IF NOT EXISTS ${q(schema)}`,
      `CREATE TABLE IF NOT EXISTS ${t} (
        room text NOT NULL,
        seq bigint NOT NULL,
        epoch text NOT NULL,
        event text NOT NULL,
        data json NOT NULL,
        sender text NOT NULL,
        sender_user text,
        message_id text,
        ts bigint NOT NULL,
        PRIMARY KEY (room, seq)
      )`,
      `CREATE INDEX IF NOT EXISTS ${q(`${name}_message_id`)} ON ${t} (room, message_id) WHERE message_id IS NOT NULL`,
      `CREATE INDEX IF NOT EXISTS ${q(`${name}_ts`)} ON ${t} (ts)`,
    ]
      .filter((s) => s !== '')
      .join(';\n'),
    insert: (rows) => insertRows(t, rows),
    insertArrays: insertFrom(
      t,
      `SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::json[], $6::text[],
        $7::text[], $8::text[], $9::bigint[])`,
      '$10::int',
    ),
    appendNext: `WITH head AS (
        SELECT coalesce(h.epoch, $2::text) AS epoch, coalesce(h.seq, $3::bigint) AS seq
        FROM (SELECT 1) AS one
        LEFT JOIN LATERAL (SELECT epoch, seq FROM ${t} WHERE room = $1 ORDER BY seq DESC LIMIT 1) AS h ON true
      )
      INSERT INTO ${t} (room, seq, epoch, event, data, sender, sender_user, message_id, ts)
      SELECT $1, head.seq + m.ord, head.epoch, m.event, m.data, m.sender, m.sender_user, m.message_id, m.ts
      FROM head, unnest($4::text[], $5::json[], $6::text[], $7::text[], $8::text[], $9::bigint[])
        WITH ORDINALITY AS m(event, data, sender, sender_user, message_id, ts, ord)
      RETURNING epoch, seq`,
    head: `SELECT epoch, seq FROM ${t} WHERE room = $1 ORDER BY seq DESC LIMIT 1`,
    page: `SELECT room, seq, event, data::text AS data, sender, sender_user, message_id, ts FROM ${t}
      WHERE room = $1 AND epoch = $2 AND seq < $3 AND ts >= $4
      ORDER BY seq DESC LIMIT $5`,
    findId: `SELECT epoch, seq FROM ${t} WHERE room = $1 AND message_id = $2 ORDER BY seq DESC LIMIT 1`,
    sweep: `DELETE FROM ${t} WHERE ctid = ANY (ARRAY(SELECT ctid FROM ${t} WHERE ts < $1 LIMIT $2))`,
  }
}
