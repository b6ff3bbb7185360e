import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
const demo = fileURLToPath(new URL('../', import.meta.url))

/** A free loopback port: the server restarts on the same one, so it cannot be 0. */
export async function freePort(): Promise<number> {
  const probe = createServer()
  probe.listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const address = probe.address()
  probe.close()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

/** The demo server's state file for this test run (`pnpm start` keeps its own in apps/demo). */
const stateFile = join(mkdtempSync(join(tmpdir(), 'roomwire-demo-')), 'roomwire-state.jsonl')

/**
 * The reference server (`roomwire-server`, run from source) serving the built demo, its protocol and its
 * request handlers, with a state file, as `pnpm start` does: each start resumes the rooms the last
 * graceful stop saved. `flags` go to the server (`--rooms-history-size 20`).
 */
export async function startDemoServer(port: number, flags: readonly string[] = []): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@roomwire/source',
      '--import',
      'tsx',
      `${repo}packages/server/src/cli.ts`,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--static-dir',
      `${demo}dist`,
      '--protocol',
      `${demo}src/protocol.ts`,
      '--handlers',
      `${demo}src/handlers.ts`,
      '--state-file',
      stateFile,
      '--log-level',
      'warn',
      ...flags,
    ],
    // Without the developer's ROOMWIRE_* settings: the server refuses unknown ones, and the test sets its own.
    { cwd: demo, stdio: ['ignore', 'pipe', 'pipe'], env: withoutServerConfig(process.env) },
  )
  let output = ''
  child.stdout?.on('data', (chunk) => {
    output += chunk
  })
  child.stderr?.on('data', (chunk) => {
    output += chunk
  })
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`demo server exited with ${child.exitCode}:\n${output}`)
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`)
      if (res.ok) return child
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`demo server did not answer /health within 30 s:\n${output}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

function withoutServerConfig(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !name.startsWith('ROOMWIRE_')))
}

/** Stop the server as an operator would (SIGTERM: graceful shutdown), and wait for it to exit. */
export async function stopDemoServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
  await exited
  clearTimeout(timer)
}
