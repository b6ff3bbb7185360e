import { type ChildProcess, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { TestClient } from '../helpers'
import { adminPool, POSTGRES_URL } from './pg-helpers'

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const cli = join(packageDir, 'src', 'cli.ts')
const tsx = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href
const children: ChildProcess[] = []
// The reference server's table is roomwire_messages: a schema of this file's own holds it.
const schema = `rw_cli_${randomBytes(5).toString('hex')}`
let admin: pg.Pool

function databaseUrl(): string {
  const url = new URL(POSTGRES_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return url.toString()
}

/** The reference server as its own process, on the PostgreSQL history; resolves its port once listening. */
function start(): { child: ChildProcess; port: Promise<number>; exited: Promise<unknown> } {
  const child = spawn(process.execPath, ['--conditions=@roomwire/source', '--import', tsx, cli], {
    env: {
      PATH: process.env.PATH ?? '',
      ROOMWIRE_PORT: '0',
      ROOMWIRE_HOST: '127.0.0.1',
      ROOMWIRE_LOG_LEVEL: 'warn',
      ROOMWIRE_HISTORY_POSTGRES_URL: databaseUrl(),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let stdout = ''
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString()
  })
  const port = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString()
      const match = /listening on ws:\/\/[^:]+:(\d+)\//.exec(stdout)
      if (match) resolve(Number(match[1]))
    })
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${stderr}`)))
  })
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)))
  return { child, port, exited }
}

async function connect(port: number): Promise<TestClient> {
  const client = new TestClient(`ws://127.0.0.1:${port}/ws`)
  await client.next('welcome')
  return client
}

async function publish(client: TestClient, room: string, data: number): Promise<number | undefined> {
  const ack = await client.request({ type: 'publish', room, event: 'chat', data })
  return ack.type === 'ack' ? ack.seq : undefined
}

beforeAll(async () => {
  admin = adminPool()
  await admin.query(`CREATE SCHEMA ${schema}`)
})

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
})

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await admin.end()
})

describe('roomwire-server with history.postgres_url', () => {
  it('keeps each room epoch and seq across a crash and a graceful restart, with clients attached', async () => {
    const first = start()
    let port = await first.port
    const alice = await connect(port)
    const bob = await connect(port)
    alice.send({ type: 'join', room: 'team' })
    bob.send({ type: 'join', room: 'team' })
    const { epoch } = await bob.next('joined')
    await alice.next('joined')
    for (let i = 1; i <= 3; i++) expect(await publish(alice, 'team', i)).toBe(i)
    await bob.next('message', (m) => m.seq === 3)

    // A crash: every acknowledged message was committed before its ack.
    first.child.kill('SIGKILL')
    await Promise.all([alice.closed, bob.closed])
    const second = start()
    port = await second.port
    const alice2 = await connect(port)
    alice2.send({ type: 'join', room: 'team', since: 3, epoch })
    await expect(alice2.next('joined')).resolves.toMatchObject({ epoch, seq: 3, recovered: true })
    expect(await publish(alice2, 'team', 4)).toBe(4)
    expect(await publish(alice2, 'team', 5)).toBe(5)
    // Bob comes back with what he saw: exactly the two he missed, and no resync.
    const bob2 = await connect(port)
    bob2.send({ type: 'join', room: 'team', since: 3, epoch })
    await expect(bob2.next('joined')).resolves.toMatchObject({ epoch, seq: 5, recovered: true, replay: 2 })
    await bob2.next('message', (m) => m.seq === 5)
    expect(bob2.received('message').map((m) => [m.seq, m.data])).toEqual([
      [4, 4],
      [5, 5],
    ])

    // A graceful restart: the same again, and the room goes on at 6.
    second.child.kill('SIGTERM')
    expect(await second.exited).toBe(0)
    const third = start()
    port = await third.port
    const bob3 = await connect(port)
    bob3.send({ type: 'join', room: 'team', since: 5, epoch })
    await expect(bob3.next('joined')).resolves.toMatchObject({ epoch, seq: 5, recovered: true })
    const alice3 = await connect(port)
    alice3.send({ type: 'join', room: 'team' })
    await alice3.next('joined')
    expect(await publish(alice3, 'team', 6)).toBe(6)
    await expect(bob3.next('message', (m) => m.seq === 6)).resolves.toMatchObject({ data: 6 })
    const { rows } = await admin.query(`SELECT count(*)::int AS n FROM ${schema}.roomwire_messages`)
    expect(rows[0].n).toBe(6)
    for (const client of [alice2, bob2, bob3, alice3]) await client.close()
    third.child.kill('SIGTERM')
    expect(await third.exited).toBe(0)
  }, 30_000)
})
