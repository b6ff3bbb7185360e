import { type ChildProcess, spawn } from 'node:child_process'
import { connect } from 'node:net'
import { freePort, pollUntil } from './local'

/** Whether a Redis at `url` answers PING (after AUTH when the URL carries credentials) within 2 s. */
export function redisAnswers(url: string): Promise<boolean> {
  const { hostname, port, username, password } = new URL(url)
  const commands: string[][] = []
  if (password !== '') commands.push(username === '' ? ['AUTH', password] : ['AUTH', username, password])
  commands.push(['PING'])
  const wire = commands
    .map((args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
    .join('')
  return new Promise((resolve) => {
    const socket = connect(Number(port || 6379), hostname.replace(/^\[|\]$/g, ''))
    let answer = ''
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(2000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write(wire))
    socket.on('data', (chunk) => {
      answer += chunk.toString('latin1')
      if (answer.includes('+PONG\r\n')) done(true)
      else if (answer.startsWith('-')) done(false)
    })
  })
}

/** A service this test run started, and how to stop it. */
export interface PrivateService {
  readonly url: string
  stop(): Promise<void>
}

/** Stop a child: `signal`, then SIGKILL if it is still there after 10 s. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  const force = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(force)
}

/** Start a redis-server of this run's own on a free loopback port, keeping nothing on disk. */
export async function startPrivateRedis(redisServer: string): Promise<PrivateService> {
  const port = await freePort()
  const url = `redis://127.0.0.1:${port}`
  const child = spawn(
    redisServer,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  )
  const failed = new Promise<boolean>((resolve) => child.once('exit', () => resolve(false)))
  const up = await Promise.race([pollUntil(() => redisAnswers(url), 10_000), failed])
  if (!up) {
    await stopChild(child, 'SIGKILL')
    throw new Error(`${redisServer} did not answer on port ${port} within 10 s`)
  }
  return { url, stop: () => stopChild(child, 'SIGTERM') }
}
