import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { expect, it } from 'vitest'

const here = fileURLToPath(new URL('.', import.meta.url))

it('works under node:test, leaving no socket, listener or timer', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [
      '--conditions=@roomwire/source',
      '--import',
      'tsx',
      '--test',
      '--test-reporter=tap',
      'node/chat.node-test.ts',
    ],
    { cwd: here, timeout: 60_000 },
  )
  expect(stdout).toMatch(/^# pass 1$/m)
  expect(stdout).toMatch(/^# fail 0$/m)
}, 90_000)
