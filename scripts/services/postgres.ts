import { type ChildProcess, spawn } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, isExecutable, pollUntil, which } from './local'
import { type PrivateService, stopChild } from './redis'

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

/**
 * Start a PostgreSQL cluster of this run's own: initdb in a temporary directory (trust auth, no fsync), the
 * server on a free loopback port, and a database `test`, as on the shared one. Removed again by `stop()`.
 */
export async function startPrivatePostgres(bin: string): Promise<PrivateService> {
  const as: { uid?: number; gid?: number } = process.getuid?.() === 0 ? postgresAccount() : {}
  const dir = mkdtempSync(join(tmpdir(), 'roomwire-pg-'))
  if (as.uid !== undefined && as.gid !== undefined) chownSync(dir, as.uid, as.gid)
  const data = join(dir, 'data')
  let child: ChildProcess | undefined
  const stop = async () => {
    if (child !== undefined) await stopChild(child, 'SIGINT') // fast shutdown
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await run(
      join(bin, 'initdb'),
      ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync'],
      as,
    )
    const port = await freePort()
    child = spawn(
      join(bin, 'postgres'),
      ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
      { ...as, stdio: 'ignore' },
    )
    const server = `postgres://postgres@127.0.0.1:${port}`
    const failed = new Promise<boolean>((resolve) => child?.once('exit', () => resolve(false)))
    const up = await Promise.race([pollUntil(() => postgresAnswers(`${server}/postgres`), 20_000), failed])
    if (!up) throw new Error(`postgres did not answer on port ${port} within 20 s`)
    await run(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'test'], as)
    return { url: `${server}/test`, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
