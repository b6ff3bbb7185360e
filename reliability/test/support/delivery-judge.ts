import type { Observation, PublishRecord } from './traced-client'

/**
 * Something that lost the room's state: the memory store's process restarted without a state file
 * (`clean`: SIGTERM, the server's shutdown notice went out; `crash`: SIGKILL, with or without a state
 * file: the file is gone once restored), or the shared store came back empty (`store`). A SIGTERM with a
 * state file loses nothing and is no loss.
 */
export interface Loss {
  t: number
  kind: 'clean' | 'crash' | 'store'
  what: string
}

/** Everything a run recorded. */
export interface RunTrace {
  /** Messages a room keeps (`rooms.history_size`); the history byte budget never binds in the model. */
  historySize: number
  clients: { index: number; events: Observation[] }[]
  publishes: PublishRecord[]
  losses: Loss[]
  /** Clients that hold the room at the end of the run (their last `join` was not followed by `leave`). */
  members: number[]
}

/** One broken rule, with enough context to see why. */
export interface Finding {
  rule: string
  client?: number | undefined
  detail: string
}

const key = (epoch: string, seq: number) => `${epoch}#${seq}`
const short = (epoch: string) => epoch.slice(0, 8)

interface AckedMessage {
  epoch: string
  seq: number
  key: string
  publisher: number
  t: number
}

/**
 * The model of the delivery guarantee (issue 13, PROTOCOL.md "Joining" and "What an SDK client does"),
 * checked over one run's trace. A message is `(epoch, seq)`; "acked" means its `publish()` resolved.
 *
 * "The server really no longer holds it" is made precise two ways: its epoch is gone (a {@link Loss}
 * the harness caused: the memory store's process restarted, or Redis came back empty), or it fell out
 * of the room's history (more than `historySize` messages of the epoch were published after it; the
 * byte budget never binds here). Nothing else may make a message unavailable.
 *
 * 1. One history: a `(epoch, seq)` names one message for every client (no fork), and an ack's `seq` is
 *    the one its message was delivered with.
 * 2. Per client, the SDK delivers in order and once: the next message delivered is always last seen + 1,
 *    where last seen starts at `joined.seq - joined.replay` (or `reset.seq`) and follows each delivery.
 * 3. The server's frames are right: a first join with `history: N` replays min(N, history size, seq);
 *    `recovered: true` replays everything after the client's last seen; `recovered: false` in the same
 *    epoch only when more than the history size was published since (the server really lost some); after
 *    an epoch change the replay holds all of the new epoch it still has; a `reset` never carries a seq
 *    above what the server has already forgotten; an epoch changes only after a {@link Loss}.
 * 4. The SDK emits `resync` exactly when messages may really be gone: for `recovered: false`, for a
 *    `reset`, and for every new epoch in `joined`, whatever the previous connection saw (PROTOCOL.md,
 *    change 11: a client cannot prove that a new epoch directly follows the one it saw end). A resync
 *    after a `joined` that recovered everything in the same epoch is a finding: a graceful restart with
 *    a state file is no loss at all.
 * 5. Every acked message reaches every client that holds the room at the end, unless it published before
 *    the client's join (at or below its first `joined` base), or a `resync` excused it: a resync into
 *    another epoch excuses what the client had not received of the epochs before; in the resync's own
 *    epoch it excuses the seqs at or below the frame's base (what the server no longer held).
 * 6. Every publish settles: acked, or refused for `left`/`closed` (the application let go). A retryable
 *    refusal (`unavailable`, `rate_limited`) reaching the application breaks the SDK's retry rule.
 */
export function judge(trace: RunTrace): Finding[] {
  const findings: Finding[] = []
  const H = trace.historySize
  const firstSeen = new Map<string, number>()
  const seen = (epoch: string, t: number) => {
    if (epoch === '') return
    const at = firstSeen.get(epoch)
    if (at === undefined || t < at) firstSeen.set(epoch, t)
  }
  // (1) one history
  const history = new Map<string, string>()
  const maxSeq = new Map<string, number>()
  const bump = (epoch: string, seq: number) => maxSeq.set(epoch, Math.max(maxSeq.get(epoch) ?? 0, seq))
  for (const { index, events } of trace.clients) {
    for (const e of events) {
      if (e.kind === 'joined' || e.kind === 'reset') {
        seen(e.epoch, e.t)
        bump(e.epoch, e.seq)
      }
      // A delivery before any joined has no epoch: the interval check reports it; it names no message.
      if (e.kind !== 'deliver' || e.epoch === '') continue
      seen(e.epoch, e.t)
      bump(e.epoch, e.seq)
      const k = key(e.epoch, e.seq)
      const known = history.get(k)
      if (known === undefined) history.set(k, e.key)
      else if (known !== e.key) {
        findings.push({
          rule: 'one history',
          client: index,
          detail: `seq ${e.seq} of epoch ${short(e.epoch)} is "${e.key}" here and "${known}" elsewhere`,
        })
      }
    }
  }
  const deliveredAt = new Map<string, { epoch: string; seq: number }[]>()
  for (const [k, value] of history) {
    const [epoch, seq] = k.split('#') as [string, string]
    deliveredAt.set(value, [...(deliveredAt.get(value) ?? []), { epoch, seq: Number(seq) }])
  }
  // (6) every publish settles, and (1) acks agree with what was delivered
  const acked: AckedMessage[] = []
  for (const p of trace.publishes) {
    const s = p.settled
    if (s === undefined) {
      findings.push({ rule: 'publish settles', client: p.client, detail: `publish "${p.key}" never settled` })
      continue
    }
    if (!s.ok) {
      if (s.code !== 'left' && s.code !== 'closed') {
        findings.push({
          rule: 'publish settles',
          client: p.client,
          detail: `publish "${p.key}" was refused with ${s.code}: ${s.message}`,
        })
      }
      continue
    }
    const places = deliveredAt.get(p.key) ?? []
    const match = places.find((place) => place.seq === s.seq)
    if (places.length > 0 && match === undefined) {
      findings.push({
        rule: 'one history',
        client: p.client,
        detail: `publish "${p.key}" was acked with seq ${s.seq} but delivered as ${places.map((x) => `${short(x.epoch)}#${x.seq}`).join(', ')}`,
      })
    }
    const epoch = match?.epoch ?? s.epoch ?? ''
    seen(epoch, s.t)
    bump(epoch, s.seq)
    acked.push({ epoch, seq: s.seq, key: p.key, publisher: p.client, t: s.t })
  }

  const lossBetween = (from: number, to: number) => trace.losses.some((loss) => loss.t > from && loss.t < to)

  // (1) exactly once: a key in two epochs is a retry after a loss, else a duplicate.
  for (const [k, places] of deliveredAt) {
    const epochs = new Set(places.map((place) => place.epoch))
    if (places.length === epochs.size && epochs.size === 1) continue
    const p = trace.publishes.find((x) => x.key === k)
    const retried =
      p !== undefined && trace.losses.some((loss) => loss.t > p.t && loss.t < (p.settled?.t ?? Infinity))
    if (places.length > epochs.size || !retried) {
      findings.push({
        rule: 'exactly once',
        client: p?.client,
        detail: `"${k}" was published as ${places.map((x) => `${short(x.epoch)}#${x.seq}`).join(' and ')}`,
      })
    }
  }

  for (const { index, events } of trace.clients) {
    const starts = events.flatMap((e, i) => (e.kind === 'join' ? [i] : []))
    for (const [n, from] of starts.entries()) {
      const to = starts[n + 1] ?? events.length
      const ctx: IntervalContext = {
        index,
        events,
        from,
        to,
        H,
        firstSeen,
        maxSeq,
        lossBetween,
        findings,
      }
      const result = checkInterval(ctx)
      const final = n === starts.length - 1 && trace.members.includes(index)
      if (final) checkComplete(ctx, result, acked)
    }
  }
  return findings
}

interface IntervalContext {
  index: number
  /** All of the client's events; the interval is `events[from]` (its `join`) up to `events[to]`. */
  events: Observation[]
  from: number
  to: number
  H: number
  firstSeen: Map<string, number>
  maxSeq: Map<string, number>
  lossBetween: (from: number, to: number) => boolean
  findings: Finding[]
}

interface IntervalResult {
  /** The epoch and base of the interval's first `joined`. */
  start: { epoch: string; base: number; t: number } | undefined
  /** Keys delivered, by epoch and seq. */
  delivered: Set<string>
  /** Epochs whose undelivered messages a resync excused, and per epoch the seqs excused up to. */
  lostEpochs: Set<string>
  excusedUpTo: Map<string, number>
}

function checkInterval(ctx: IntervalContext): IntervalResult {
  const { index, events, from, to, H, firstSeen, maxSeq, lossBetween, findings } = ctx
  const join = events[from] as Extract<Observation, { kind: 'join' }>
  const result: IntervalResult = {
    start: undefined,
    delivered: new Set(),
    lostEpochs: new Set(),
    excusedUpTo: new Map(),
  }
  const fail = (rule: string, detail: string) => findings.push({ rule, client: index, detail })
  let epoch: string | undefined
  let lastSeen = 0
  const keysOfInterval = new Map<string, string>()
  /** Frames that make a resync required, waiting for the SDK's answer. */
  const expected: { epoch: string; why: string; t: number }[] = []

  const excuse = (upTo: number, into: string) => {
    if (upTo > 0) result.excusedUpTo.set(into, Math.max(result.excusedUpTo.get(into) ?? 0, upTo))
  }

  for (const e of events.slice(from + 1, to)) {
    switch (e.kind) {
      case 'joined': {
        const base = e.seq - e.replay
        if (epoch === undefined) {
          // A first join: no `since`, the last `history` messages.
          const wanted = Math.min(join.history, H, e.seq)
          if (e.replay !== wanted) {
            fail(
              'server frames',
              `a first join with history ${join.history} at seq ${e.seq} replayed ${e.replay} messages, not ${wanted}`,
            )
          }
          result.start = { epoch: e.epoch, base, t: e.t }
          epoch = e.epoch
          lastSeen = base
          break
        }
        if (e.epoch === epoch) {
          if (e.recovered === false) {
            if (e.seq - lastSeen <= H) {
              fail(
                'server frames',
                `joined said recovered: false at seq ${e.seq} though the client had seen ${lastSeen} and the history keeps ${H}`,
              )
            }
            expected.push({ epoch: e.epoch, why: 'recovered: false', t: e.t })
            excuse(base, e.epoch)
            lastSeen = base
          } else {
            if (base > lastSeen) {
              fail(
                'server frames',
                `joined (recovered) at seq ${e.seq} replayed from ${base + 1}, but the client had seen only ${lastSeen}`,
              )
            }
            lastSeen = Math.max(lastSeen, base)
          }
          break
        }
        // A new epoch.
        const before = firstSeen.get(epoch) ?? e.t
        if (!lossBetween(before, e.t)) {
          fail(
            'epoch changes only after a loss',
            `joined moved from epoch ${short(epoch)} to ${short(e.epoch)}`,
          )
        }
        if (e.replay !== Math.min(H, e.seq)) {
          fail(
            'server frames',
            `joined in a new epoch at seq ${e.seq} replayed ${e.replay} messages, not all it holds (${Math.min(H, e.seq)})`,
          )
        }
        expected.push({ epoch: e.epoch, why: 'a new epoch', t: e.t })
        result.lostEpochs.add(epoch)
        for (const [other, at] of firstSeen) if (other !== e.epoch && at < e.t) result.lostEpochs.add(other)
        excuse(base, e.epoch)
        epoch = e.epoch
        lastSeen = base
        break
      }
      case 'reset': {
        const max = maxSeq.get(e.epoch) ?? 0
        if (e.seq > 0 && e.seq > max - H) {
          fail(
            'server frames',
            `reset into epoch ${short(e.epoch)} carried seq ${e.seq}, skipping messages the server still held (the epoch reached ${max}, history ${H})`,
          )
        }
        if (epoch !== undefined && e.epoch === epoch) {
          fail('server frames', `reset without a new epoch (${short(e.epoch)})`)
        } else if (epoch !== undefined && !lossBetween(firstSeen.get(epoch) ?? e.t, e.t)) {
          fail(
            'epoch changes only after a loss',
            `reset moved from epoch ${short(epoch)} to ${short(e.epoch)}`,
          )
        }
        expected.push({ epoch: e.epoch, why: 'reset', t: e.t })
        if (epoch !== undefined) result.lostEpochs.add(epoch)
        for (const [other, at] of firstSeen) if (other !== e.epoch && at < e.t) result.lostEpochs.add(other)
        excuse(Math.min(e.seq, Math.max(0, max - H)), e.epoch)
        epoch = e.epoch
        lastSeen = e.seq
        break
      }
      case 'deliver': {
        const again = keysOfInterval.get(e.key)
        if (again !== undefined && (again === '' || again === e.epoch || e.epoch === '')) {
          fail('exactly once', `delivered "${e.key}" twice since its join (seq ${e.seq})`)
        }
        keysOfInterval.set(e.key, e.epoch)
        if (epoch === undefined) {
          fail(
            'in order, once',
            `delivered seq ${e.seq} ("${e.key}") before its join's joined: a frame of an earlier membership reached the new room handle`,
          )
          break
        }
        if (e.epoch !== epoch) {
          fail(
            'in order, once',
            `delivered seq ${e.seq} tagged epoch ${short(e.epoch)} while the last joined/reset said ${epoch === undefined ? 'none' : short(epoch)}`,
          )
        }
        if (e.seq <= lastSeen) {
          fail(
            'in order, once',
            `delivered seq ${e.seq} ("${e.key}") again or out of order: last seen ${lastSeen}`,
          )
        } else if (e.seq > lastSeen + 1) {
          fail(
            'in order, once',
            `delivered seq ${e.seq} ("${e.key}") after ${lastSeen}: skipped ${lastSeen + 1}..${e.seq - 1}`,
          )
        }
        lastSeen = Math.max(lastSeen, e.seq)
        result.delivered.add(key(e.epoch, e.seq))
        break
      }
      case 'resync': {
        const i = expected.findIndex((x) => x.epoch === e.epoch)
        const match = i === -1 ? undefined : expected.splice(i, 1)[0]!
        if (match === undefined) {
          fail(
            'resync when really lost',
            `resync (${e.reason}) in epoch ${short(e.epoch)} with no frame saying anything was lost`,
          )
        }
        // Whatever the server said, the application was told to refetch: what it missed is excused.
        if (e.epoch !== epoch && epoch !== undefined) result.lostEpochs.add(epoch)
        break
      }
      default:
        break
    }
  }
  for (const x of expected) {
    fail(
      'resync when really lost',
      `no resync after ${x.why} (epoch ${short(x.epoch)}, at ${Math.round(x.t)} ms)`,
    )
  }
  return result
}

function checkComplete(ctx: IntervalContext, result: IntervalResult, acked: AckedMessage[]): void {
  const { index, events, from, to, firstSeen, findings } = ctx
  const start = result.start
  if (start === undefined) {
    findings.push({ rule: 'every acked message', client: index, detail: 'the room never got a joined' })
    return
  }
  const missing: AckedMessage[] = []
  for (const m of acked) {
    // Its epoch is the one the client joined (after its start), or one that began after it joined.
    const required =
      m.epoch === start.epoch
        ? m.seq > start.base
        : (firstSeen.get(m.epoch) ?? Number.NEGATIVE_INFINITY) > start.t
    if (!required || result.delivered.has(key(m.epoch, m.seq))) continue
    if (result.lostEpochs.has(m.epoch)) continue
    if (m.seq <= (result.excusedUpTo.get(m.epoch) ?? 0)) continue
    missing.push(m)
  }
  if (missing.length === 0) return
  const lastSeen = events
    .slice(from, to)
    .filter((e) => e.kind === 'deliver')
    .at(-1)
  findings.push({
    rule: 'every acked message',
    client: index,
    detail:
      `missed ${missing.length} acked message(s) with no resync: ` +
      missing
        .slice(0, 8)
        .map((m) => `${short(m.epoch)}#${m.seq} "${m.key}" from client ${m.publisher}`)
        .join(', ') +
      (missing.length > 8 ? ', ...' : '') +
      ` (last delivered: ${lastSeen?.kind === 'deliver' ? `${short(lastSeen.epoch)}#${lastSeen.seq}` : 'none'})`,
  })
}

/** A compact, readable timeline of some clients' traces (for failure messages), `limit` lines each. */
export function timeline(trace: RunTrace, clients: number[], limit = 60): string {
  const t0 = Math.min(...trace.clients.flatMap((c) => c.events.slice(0, 1).map((e) => e.t)), Infinity)
  const at = (t: number) => `${Math.round(t - t0)}ms`.padStart(7)
  const lines: string[] = []
  for (const loss of trace.losses) lines.push(`${at(loss.t)} loss: ${loss.what} (${loss.kind})`)
  for (const index of clients) {
    const events = trace.clients.find((c) => c.index === index)?.events ?? []
    lines.push(`client #${index}:`)
    // Attempts that never got a welcome (refused while offline or down) only say "closed": leave them out.
    const welcomed = new Set(events.flatMap((e) => (e.kind === 'welcome' ? [e.conn] : [])))
    const relevant = events.filter((e) => e.kind !== 'closed' || welcomed.has(e.conn))
    const shown = relevant.length > limit ? relevant.slice(-limit) : relevant
    if (shown.length < relevant.length) lines.push(`  ... ${relevant.length - shown.length} earlier events`)
    for (const e of shown) {
      let what: string
      switch (e.kind) {
        case 'join':
          what = `join(history ${e.history})`
          break
        case 'welcome':
          what = `conn ${e.conn} welcome ${e.id}`
          break
        case 'joined':
          what = `conn ${e.conn} joined ${short(e.epoch)} seq ${e.seq} replay ${e.replay}${e.recovered === undefined ? '' : ` recovered ${e.recovered}`}`
          break
        case 'reset':
          what = `conn ${e.conn} reset ${short(e.epoch)} seq ${e.seq}`
          break
        case 'shutdown':
          what = `conn ${e.conn} shutdown notice`
          break
        case 'closed':
          what = `conn ${e.conn} closed`
          break
        case 'deliver':
          what = `deliver ${short(e.epoch)}#${e.seq} "${e.key}"${e.own ? ' (own)' : ''}`
          break
        case 'resync':
          what = `RESYNC ${e.reason} ${short(e.epoch)} seq ${e.seq}`
          break
        case 'leave':
          what = 'leave()'
          break
      }
      lines.push(`  ${at(e.t)} ${what}`)
    }
  }
  const acks = trace.publishes
    .filter((p) => clients.includes(p.client) || p.settled?.ok !== true)
    .map((p) => {
      const s = p.settled
      const outcome = s === undefined ? 'unsettled' : s.ok ? `ack ${s.seq}` : `refused ${s.code}`
      return `"${p.key}" ${outcome}`
    })
  if (acks.length > 0)
    lines.push(`publishes: ${acks.slice(0, 40).join(', ')}${acks.length > 40 ? ', ...' : ''}`)
  return lines.join('\n')
}
