import { spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, isExecutable, pollUntil, which } from './local'
import type { PrivateService } from './redis'

/**
 * Whether the PostgreSQL at `url` lets its user into its database: a protocol 3.0 startup message answered
 * up to ReadyForQuery (trust auth). A server that asks for a password counts when the URL carries one.
 */
export function postgresAnswers(url: string): Promise<boolean> {
  const { hostname, port, username, password, pathname } = new URL(url)
  const user = decodeURIComponent(username || 'postgres')
  const database = decodeURIComponent(pathname.slice(1) || user)
  const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`)
  const startup = Buffer.alloc(8 + params.length)
  startup.writeInt32BE(startup.length, 0)
  startup.writeInt32BE(196_608, 4) // protocol 3.0
  params.copy(startup, 8)
  return new Promise((resolve) => {
    const socket = connect(Number(port || 5432), hostname.replace(/^\[|\]$/g, ''))
    let answer = Buffer.alloc(0)
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(2000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write(startup))
    socket.on('data', (chunk: Buffer) => {
      answer = Buffer.concat([answer, chunk])
      // Messages are a type byte and a length. The database is checked after authentication, so wait for
      // ReadyForQuery ('Z'); an ErrorResponse ('E') is a refusal; an 'R' other than 0 asks for a password.
      while (answer.length >= 5) {
        const type = answer[0]
        const length = answer.readInt32BE(1)
        if (answer.length < 1 + length) return
        if (type === 0x45) return done(false)
        if (type === 0x52 && length >= 8 && answer.readInt32BE(5) !== 0) return done(password !== '')
        if (type === 0x5a) {
          socket.write(Buffer.from([0x58, 0, 0, 0, 4])) // Terminate
          return done(true)
        }
        answer = answer.subarray(1 + length)
      }
    })
  })
}

/** The directory holding Debian's newest PostgreSQL server binaries (initdb, postgres), or one on PATH. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql'
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => isExecutable(join(root, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a))
    if (versions[0] !== undefined) return join(root, versions[0], 'bin')
  }
  const initdb = which('initdb')
  return initdb === undefined || !isExecutable(join(initdb, '..', 'postgres'))
    ? undefined
    : join(initdb, '..')
}

/** The uid and gid of the `postgres` account, which initdb and postgres need when this process is root. */
function postgresAccount(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'))
  const [, , uid, gid] = line?.split(':') ?? []
  if (uid === undefined || gid === undefined) {
    throw new Error('PostgreSQL refuses to run as root and there is no postgres account to run it as')
  }
  return { uid: Number(uid), gid: Number(gid) }
}

function run(command: string, args: string[], as: { uid?: number; gid?: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { ...as, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d: Buffer) => {
      output += d
    })
    child.stderr.on('data', (d: Buffer) => {
      output += d
    })
    child.once('error', reject)
    child.once('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${command} exited with ${code}: ${output.trim()}`)),
    )
  })
}

/** How `pg_ctl stop` ends the server: `fast` rolls back and closes sessions; `immediate` is a crash. */
export type PostgresStopMode = 'fast' | 'immediate'

/**
 * A PostgreSQL cluster of its own in a temporary directory (trust auth, no fsync), served on a loopback
 * port chosen once, so it can be stopped and started again at the same address (the outage tests do).
 */
export interface PostgresCluster {
  /** `postgres://postgres@127.0.0.1:PORT`, without a database. */
  readonly server: string
  readonly port: number
  /** Start the server (`pg_ctl start`) and wait until it accepts connections. */
  start(): Promise<void>
  /** Stop it (`pg_ctl stop -m mode`) and wait until it is gone; nothing when it is not running. */
  stop(mode: PostgresStopMode): Promise<void>
  /** Stop it (fast) and delete its directory. */
  remove(): Promise<void>
  /** Run one of the cluster's client programs (`createdb`, ...) against it. */
  client(program: string, args: string[]): Promise<string>
}

/** initdb a cluster into a temporary directory; it is not started. See {@link PostgresCluster}. */
export async function createPostgresCluster(bin: string): Promise<PostgresCluster> {
  const as: { uid?: number; gid?: number } = process.getuid?.() === 0 ? postgresAccount() : {}
  const dir = mkdtempSync(join(tmpdir(), 'roomwire-pg-'))
  if (as.uid !== undefined && as.gid !== undefined) chownSync(dir, as.uid, as.gid)
  const data = join(dir, 'data')
  let running = false
  const pgCtl = (args: string[]) => run(join(bin, 'pg_ctl'), ['-D', data, '-w', '-t', '20', ...args], as)
  const stop = async (mode: PostgresStopMode) => {
    if (!running) return
    await pgCtl(['-m', mode, 'stop'])
    running = false
  }
  try {
    await run(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'],
      as,
    )
  } catch (err) {
    rmSync(dir, { recursive: true, force: true })
    throw err
  }
  const port = await freePort()
  const server = `postgres://postgres@127.0.0.1:${port}`
  return {
    server,
    port,
    async start() {
      if (running) return
      const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`
      // The log file keeps the server's output off pg_ctl's pipes, so pg_ctl exits once the server is up.
      await pgCtl(['-l', join(dir, 'log'), '-o', options, 'start'])
      running = true
      if (!(await pollUntil(() => postgresAnswers(`${server}/postgres`), 20_000))) {
        throw new Error(`postgres did not answer on port ${port} within 20 s`)
      }
    },
    stop,
    async remove() {
      await stop('fast').catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
    client: (program, args) =>
      run(join(bin, program), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', ...args], as),
  }
}

/**
 * Start a PostgreSQL cluster of this run's own: initdb in a temporary directory (trust auth, no fsync), the
 * server on a free loopback port, and a database `test`, as on the shared one. Removed again by `stop()`.
 */
export async function startPrivatePostgres(bin: string): Promise<PrivateService> {
  const cluster = await createPostgresCluster(bin)
  try {
    await cluster.start()
    await cluster.client('createdb', ['test'])
    return { url: `${cluster.server}/test`, stop: () => cluster.remove() }
  } catch (err) {
    await cluster.remove()
    throw err
  }
}
