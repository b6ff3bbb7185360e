import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { freePort } from '../services/local'
import { findPostgresBin, postgresAnswers, startPrivatePostgres } from '../services/postgres'
import { redisAnswers, startPrivateRedis } from '../services/redis'
import { testEnv } from '../test-env'

const setupModule = fileURLToPath(new URL('../test-setup.ts', import.meta.url))
const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url))

describe('test services', () => {
  it('sees nothing answering on a port where nothing listens', async () => {
    const port = await freePort()
    expect(await redisAnswers(`redis://127.0.0.1:${port}`)).toBe(false)
    expect(await postgresAnswers(`postgres://postgres@127.0.0.1:${port}/test`)).toBe(false)
  })

  it('starts a private Redis that answers PING, and stops it', async () => {
    const redis = await startPrivateRedis(testEnv('RW_TEST_REDIS_SERVER'))
    expect(redis.url).not.toBe('redis://127.0.0.1:6379')
    expect(await redisAnswers(redis.url)).toBe(true)
    await redis.stop()
    expect(await redisAnswers(redis.url)).toBe(false)
  })

  it('starts a private PostgreSQL with a database test, refuses other databases, and removes it', async () => {
    const bin = findPostgresBin()
    expect(bin).toBeDefined()
    const postgres = await startPrivatePostgres(bin!)
    expect(postgres.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/test$/)
    expect(await postgresAnswers(postgres.url)).toBe(true)
    expect(await postgresAnswers(postgres.url.replace(/\/test$/, '/no_such_db'))).toBe(false)
    await postgres.stop()
    expect(await postgresAnswers(postgres.url)).toBe(false)
  })

  it('stops before any test with one line naming what to install when it may not install it', async () => {
    // No redis-server on PATH, and no installing: nothing can supply the binary.
    const child = spawn(
      process.execPath,
      [
        '--import',
        tsx,
        '--input-type=module',
        '-e',
        `await (await import(${JSON.stringify(setupModule)})).setup()`,
      ],
      { env: { PATH: '/nonexistent', RW_TEST_NO_INSTALL: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      stderr += d
    })
    const code = await new Promise((resolve) => child.once('exit', resolve))
    expect(code).toBe(1)
    expect(stderr.trimEnd().split('\n')).toEqual([
      'roomwire tests: need redis-server: sudo apt-get install -y redis-server (or set RW_TEST_REDIS_SERVER)',
    ])
  })
})

describe.runIf(existsSync('/etc/debian_version'))('on Debian', () => {
  it('finds the PostgreSQL server binaries where the postgresql package puts them', () => {
    expect(findPostgresBin()).toMatch(/^\/usr\/lib\/postgresql\/\d+\/bin$/)
  })
})
