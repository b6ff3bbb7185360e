import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import { TestClient } from '../helpers'
import { adminPool, POSTGRES_URL } from '../postgres/pg-helpers'
import { type CliNode, deleteKeys, REDIS_URL, spawnCliNode, uniquePrefix } from './redis-helpers'

// The reference server's table is roomwire_messages: a schema of this file's own holds it.
const schema = `rw_cli_redis_${randomBytes(5).toString('hex')}`
let admin: pg.Pool
let nodes: CliNode[] = []

function databaseUrl(): string {
  const url = new URL(POSTGRES_URL)
  url.searchParams.set('options', `-c search_path=${schema}`)
  return url.toString()
}

async function connect(node: CliNode): Promise<TestClient> {
  const client = new TestClient(node.url)
  await client.next('welcome')
  return client
}

/** Send until answered other than `unavailable` (a node re-registering after the flush), as the SDK does. */
async function untilAvailable(client: TestClient, message: Parameters<TestClient['request']>[0]) {
  for (;;) {
    const reply = await client.request(message)
    if (reply.type !== 'error' || reply.code !== 'unavailable') return reply
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

beforeAll(async () => {
  admin = adminPool()
  await admin.query(`CREATE SCHEMA ${schema}`)
})

afterEach(() => {
  for (const node of nodes) node.child.kill('SIGKILL')
  nodes = []
})

afterAll(async () => {
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await admin.end()
})

describe('the reference server with redis_url and history.postgres_url', () => {
  it('continues a room from PostgreSQL after Redis lost it: the rejoin on another process is recovered', async () => {
    const prefix = uniquePrefix()
    const extra = ['--history-postgres-url', databaseUrl()]
    nodes = await Promise.all([spawnCliNode(prefix, extra), spawnCliNode(prefix, extra)])
    const [a, b] = nodes
    const publisher = await connect(a!)
    const reader = await connect(b!)
    await untilAvailable(publisher, { type: 'join', room: 'room' })
    const first = await untilAvailable(reader, { type: 'join', room: 'room' })
    if (first.type !== 'joined') throw new Error(`join refused: ${JSON.stringify(first)}`)
    const send = (n: number) =>
      untilAvailable(publisher, { type: 'publish', room: 'room', event: 'e', data: n, id: `m${n}` })
    for (let n = 1; n <= 3; n++) await send(n)
    await reader.next('message', (m) => m.seq === 3)
    await reader.close()
    await deleteKeys(REDIS_URL, prefix)
    for (let n = 4; n <= 6; n++) expect(await send(n)).toMatchObject({ type: 'ack', seq: n })

    const back = await connect(b!)
    const joined = await untilAvailable(back, { type: 'join', room: 'room', since: 3, epoch: first.epoch })
    expect(joined).toMatchObject({ type: 'joined', epoch: first.epoch, seq: 6, recovered: true })
    await vi.waitFor(() => expect(back.received('message').map((m) => m.data)).toEqual([4, 5, 6]))
    await back.close()
    await publisher.close()
  }, 60_000)
})
