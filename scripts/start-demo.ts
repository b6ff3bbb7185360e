/**
 * `pnpm start`: the demo chat, served by the reference server. Only the page is built (Vite, quiet); the
 * server runs from source, so the first thing a user sees once it is up is the URL to open (issue #16).
 * Arguments go to roomwire-server: `pnpm start --port 3000`. The rooms are kept in
 * `apps/demo/roomwire-state.jsonl` across a restart of the server.
 */
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const demo = `${root}apps/demo`

const built = spawnSync(`${demo}/node_modules/.bin/vite`, ['build', '--logLevel', 'warn'], {
  cwd: demo,
  stdio: 'inherit',
})
if (built.status !== 0) process.exit(built.status ?? 1)

const args = process.argv.slice(2)
// The demo's rooms outlive a restart of its server (Ctrl-C, then pnpm start again): the memory adapter
// keeps them in a state file in the demo's folder (gitignored). With Redis or PostgreSQL (whose history
// keeps every message) the store keeps them, and the server refuses a state file beside it.
const given = (flag: string, env: string) =>
  args.some((arg) => arg.startsWith(flag)) || process.env[env] !== undefined
const store =
  given('--redis-url', 'ROOMWIRE_REDIS_URL') ||
  given('--history-postgres-url', 'ROOMWIRE_HISTORY_POSTGRES_URL')
const stateFile = store ? [] : ['--state-file', 'apps/demo/roomwire-state.jsonl']

const server = spawn(
  process.execPath,
  [
    '--conditions=@roomwire/source',
    '--import',
    'tsx',
    `${root}packages/server/src/cli.ts`,
    '--static-dir',
    'apps/demo/dist',
    '--protocol',
    'apps/demo/src/protocol.ts',
    // The demo's request handlers (listRooms, createRoom), loaded like the protocol, from source.
    '--handlers',
    'apps/demo/src/handlers.ts',
    ...stateFile,
    ...args,
  ],
  { cwd: root, stdio: 'inherit' },
)
// Ctrl-C reaches the server from the terminal itself, and it shuts down gracefully; wait for it.
process.on('SIGINT', () => {})
process.on('SIGTERM', () => server.kill('SIGTERM'))
server.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 0 : 1)))
