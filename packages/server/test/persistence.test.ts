import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  createMemoryAdapter,
  fileState,
  type RoomPersistence,
  type RoomServerOptions,
  type RoomSnapshot,
} from '../src/index'
import { startTestServer, type TestClient } from './helpers'

function stateFile(): string {
  return join(mkdtempSync(join(tmpdir(), 'roomwire-state-')), 'state.jsonl')
}

/** A server whose memory adapter keeps its rooms in `file` (as the CLI's state_file does). */
function serverOn(file: string, options: Omit<RoomServerOptions, 'port' | 'server' | 'noServer'> = {}) {
  return startTestServer({ ...options, adapter: createMemoryAdapter({ persist: fileState(file) }) })
}

async function publishN(client: TestClient, room: string, n: number, from: number): Promise<void> {
  for (let i = 0; i < n; i++) await client.request({ type: 'publish', room, event: 'chat', data: from + i })
}

/** A persistence kept in this process, counting its calls. */
function inMemory(initial?: RoomSnapshot[]) {
  const calls = { load: 0, save: 0 }
  let saved = initial
  const persist: RoomPersistence = {
    load() {
      calls.load++
      return saved
    },
    save(rooms) {
      calls.save++
      saved = [...rooms]
    },
  }
  return { persist, calls, saved: () => saved }
}

describe('a graceful restart with a state file (fileState)', () => {
  it("keeps each room's epoch and seq: a member rejoining with since gets recovered: true and exactly what it missed", async () => {
    const file = stateFile()
    const before = await serverOn(file)
    const alice = await before.connect({ join: 'team' })
    const bob = await before.connect({ join: 'team' })
    await publishN(alice, 'team', 3, 100)
    const old = bob.received('joined')[0]!
    await bob.next('message', (m) => m.seq === 3)
    await before.close()
    expect(existsSync(file)).toBe(true)

    await using after = await serverOn(file)
    // Read and deleted at start: a crash from now on must start new epochs.
    expect(existsSync(file)).toBe(false)
    await expect(after.server.roomInfo('team')).resolves.toMatchObject({ epoch: old.epoch, seq: 3 })
    await using alice2 = await after.connect()
    alice2.send({ type: 'join', room: 'team', since: 3, epoch: old.epoch })
    await expect(alice2.next('joined')).resolves.toMatchObject({
      epoch: old.epoch,
      seq: 3,
      recovered: true,
    })
    await publishN(alice2, 'team', 2, 200)
    await using bob2 = await after.connect()
    bob2.send({ type: 'join', room: 'team', since: 3, epoch: old.epoch })
    await expect(bob2.next('joined')).resolves.toMatchObject({
      epoch: old.epoch,
      seq: 5,
      recovered: true,
      replay: 2,
    })
    await bob2.next('message', (m) => m.seq === 5)
    expect(bob2.received('message').map((m) => [m.seq, m.data])).toEqual([
      [4, 200],
      [5, 201],
    ])
  })

  it('gives a member away across two graceful restarts every message published in between, once and in order', async () => {
    const file = stateFile()
    const first = await serverOn(file)
    const alice = await first.connect({ join: 'team' })
    const bob = await first.connect({ join: 'team' })
    await publishN(alice, 'team', 2, 1)
    await bob.next('message', (m) => m.seq === 2)
    const { epoch } = bob.received('joined')[0]!
    await first.close()

    const second = await serverOn(file)
    const alice2 = await second.connect()
    alice2.send({ type: 'join', room: 'team', since: 2, epoch })
    await alice2.next('joined')
    await publishN(alice2, 'team', 3, 3)
    await second.close()

    await using third = await serverOn(file)
    await using alice3 = await third.connect()
    alice3.send({ type: 'join', room: 'team', since: 5, epoch })
    await alice3.next('joined')
    await publishN(alice3, 'team', 1, 6)
    // Bob comes back only now, with what he saw before the first restart.
    await using bob3 = await third.connect()
    bob3.send({ type: 'join', room: 'team', since: 2, epoch })
    await expect(bob3.next('joined')).resolves.toMatchObject({ epoch, seq: 6, recovered: true, replay: 4 })
    await bob3.next('message', (m) => m.seq === 6)
    expect(bob3.received('message').map((m) => [m.seq, m.data])).toEqual([
      [3, 3],
      [4, 4],
      [5, 5],
      [6, 6],
    ])
  })

  it('answers recovered: false in the same epoch when what a member missed left the history', async () => {
    const file = stateFile()
    const before = await serverOn(file, { historySize: 3 })
    const alice = await before.connect({ join: 'team' })
    await publishN(alice, 'team', 6, 1)
    const { epoch } = alice.received('joined')[0]!
    await before.close()
    await using after = await serverOn(file, { historySize: 3 })
    await using bob = await after.connect()
    bob.send({ type: 'join', room: 'team', since: 1, epoch })
    await expect(bob.next('joined')).resolves.toMatchObject({ epoch, seq: 6, recovered: false, replay: 3 })
    await bob.next('message', (m) => m.seq === 6)
    expect(bob.received('message').map((m) => m.seq)).toEqual([4, 5, 6])
  })

  it('keeps restored history within the new process bounds: a smaller history size keeps the newest', async () => {
    const file = stateFile()
    const before = await serverOn(file, { historySize: 10 })
    const alice = await before.connect({ join: 'team' })
    await publishN(alice, 'team', 8, 1)
    await before.close()
    await using after = await serverOn(file, { historySize: 2 })
    await using bob = await after.connect()
    bob.send({ type: 'join', room: 'team', history: 10 })
    await expect(bob.next('joined')).resolves.toMatchObject({ seq: 8, replay: 2 })
    await bob.next('message', (m) => m.seq === 8)
    expect(bob.received('message').map((m) => m.seq)).toEqual([7, 8])
  })

  it('still dedupes a publish retried with its id after the restart', async () => {
    const file = stateFile()
    const before = await serverOn(file)
    const alice = await before.connect({ join: 'team' })
    await expect(
      alice.request({ type: 'publish', room: 'team', event: 'chat', data: 'x', id: 'm-1' }),
    ).resolves.toMatchObject({ type: 'ack', seq: 1 })
    const { epoch } = alice.received('joined')[0]!
    await before.close()
    await using after = await serverOn(file)
    await using alice2 = await after.connect()
    alice2.send({ type: 'join', room: 'team', since: 1, epoch })
    await alice2.next('joined')
    // The ack was lost with the old connection: the retry gets the original seq, nothing new is published.
    await expect(
      alice2.request({ type: 'publish', room: 'team', event: 'chat', data: 'x', id: 'm-1' }),
    ).resolves.toMatchObject({ type: 'ack', seq: 1 })
    await expect(after.server.roomInfo('team')).resolves.toMatchObject({ seq: 1 })
  })

  it('writes the file readable by its owner only, and leaves no temporary file', async () => {
    const file = stateFile()
    const before = await serverOn(file)
    await before.server.broadcast('team', 'chat', 'hello')
    await before.close()
    expect(statSync(file).mode & 0o777).toBe(0o600)
    expect(readdirSync(join(file, '..'))).toEqual(['state.jsonl'])
  })
})

describe('a graceful restart without a state file', () => {
  it('starts a new epoch, so a member coming back gets recovered: false and the whole new epoch', async () => {
    const before = await startTestServer()
    const alice = await before.connect({ join: 'team' })
    await publishN(alice, 'team', 2, 1)
    const { epoch } = alice.received('joined')[0]!
    await before.close()
    await using after = await startTestServer()
    await after.server.broadcast('team', 'chat', 'new')
    await using alice2 = await after.connect()
    alice2.send({ type: 'join', room: 'team', since: 2, epoch })
    const joined = await alice2.next('joined')
    expect(joined).toMatchObject({ seq: 1, recovered: false, replay: 1 })
    expect(joined.epoch).not.toBe(epoch)
  })
})

describe('the memory adapter with persist', () => {
  it('restores an idle room with the rest of its idle timeout, and drops one whose timeout passed', async () => {
    const now = 1_000_000
    const store = inMemory([
      { room: 'fresh', epoch: 'e_fresh', seq: 0, history: [], idleSince: now - 1000 },
      { room: 'stale', epoch: 'e_stale', seq: 0, history: [], idleSince: now - 60_000 },
    ])
    const server = await startTestServer({
      idleTimeoutMs: 10_000,
      now: () => now,
      adapter: createMemoryAdapter({ persist: store.persist }),
    })
    await expect(server.server.roomInfo('fresh')).resolves.toMatchObject({ epoch: 'e_fresh' })
    await expect(server.server.roomInfo('stale')).resolves.toBeNull()
    await server.close()
    // Its timeout goes on from when it became empty, not from the restart.
    expect(store.saved()).toEqual([
      { room: 'fresh', epoch: 'e_fresh', seq: 0, history: [], idleSince: now - 1000 },
    ])
  })

  it('waits for an asynchronous load before it answers a join, which then resumes the restored epoch', async () => {
    let release!: (rooms: RoomSnapshot[]) => void
    const loaded = new Promise<RoomSnapshot[]>((resolve) => {
      release = resolve
    })
    const persist: RoomPersistence = { load: () => loaded, save() {} }
    const adapter = createMemoryAdapter({ persist })
    const pending = startTestServer({ adapter })
    const frame = JSON.stringify({
      type: 'message',
      room: 'r',
      event: 'e',
      data: 1,
      from: 'x',
      seq: 4,
      ts: 1,
    })
    // The server is not ready while the load runs; a join through the adapter meanwhile waits.
    const member = { id: 'c_test' }
    const joined = Promise.resolve(adapter.join('r', member, { since: 3, epoch: 'e_kept' }, 10))
    release([{ room: 'r', epoch: 'e_kept', seq: 4, history: [frame], idleSince: Date.now() }])
    await using server = await pending
    await expect(joined).resolves.toMatchObject({ ok: true, epoch: 'e_kept', seq: 4, recovered: true })
    await expect(server.server.roomInfo('r')).resolves.toMatchObject({ seq: 4, epoch: 'e_kept' })
  })

  it('saves once, at close, every room with its epoch, seq and history frames', async () => {
    const store = inMemory()
    const server = await startTestServer({ adapter: createMemoryAdapter({ persist: store.persist }) })
    await server.server.broadcast('a', 'chat', 1)
    await server.server.broadcast('a', 'chat', 2)
    const { epoch } = (await server.server.roomInfo('a'))!
    expect(store.calls).toEqual({ load: 1, save: 0 })
    await server.close()
    expect(store.calls).toEqual({ load: 1, save: 1 })
    const [room] = store.saved()!
    expect(room).toMatchObject({ room: 'a', epoch, seq: 2 })
    expect(room!.history.map((f) => (JSON.parse(f) as { data: unknown }).data)).toEqual([1, 2])
  })

  it('refuses a snapshot whose frame is not the message of its seq, and then saves nothing at close', async () => {
    const frame = JSON.stringify({
      type: 'message',
      room: 'r',
      event: 'e',
      data: 1,
      from: 'x',
      seq: 2,
      ts: 1,
    })
    const store = inMemory([{ room: 'r', epoch: 'e_1', seq: 3, history: [frame], idleSince: Date.now() }])
    const adapter = createMemoryAdapter({ persist: store.persist })
    await expect(startTestServer({ adapter })).rejects.toThrow(
      'the memory adapter cannot restore its rooms: room "r": history frame of seq 3 says seq 2',
    )
    await adapter.close()
    expect(store.calls.save).toBe(0)
  })

  it('refuses a persist without load and save', () => {
    expect(() => createMemoryAdapter({ persist: {} as RoomPersistence })).toThrow(
      'memory adapter option persist needs load() and save()',
    )
  })
})

describe('fileState', () => {
  it('loads nothing when the file does not exist', () => {
    expect(fileState(stateFile()).load()).toBeUndefined()
  })

  it('refuses a file that is not a state file and leaves it in place', () => {
    const file = stateFile()
    writeFileSync(file, '{"port": 8080}\n')
    expect(() => fileState(file).load()).toThrow(`state file ${file} is not a roomwire state file`)
    expect(readFileSync(file, 'utf8')).toBe('{"port": 8080}\n')
  })

  it('refuses a damaged room line, naming it, and leaves the file in place', () => {
    const file = stateFile()
    writeFileSync(
      file,
      `${JSON.stringify({ format: 'roomwire-state', version: 1 })}\n${JSON.stringify({ room: 'a', epoch: 'e_1', seq: -1, history: [], idleSince: 0 })}\n`,
    )
    expect(() => fileState(file).load()).toThrow('is damaged: room "a" has no valid seq')
    expect(existsSync(file)).toBe(true)
  })

  it('hands a saved file to one load only', async () => {
    const file = stateFile()
    const snapshot: RoomSnapshot = { room: 'a', epoch: 'e_1', seq: 0, history: [], idleSince: 5 }
    await fileState(file).save([snapshot])
    expect(fileState(file).load()).toEqual([snapshot])
    expect(fileState(file).load()).toBeUndefined()
  })
})
