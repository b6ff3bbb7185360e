/**
 * Where the tests find their services. The test run's global setup (`scripts/test-setup.ts`) makes sure each
 * one is there, starting or installing it where it can, and sets these variables before any test runs; set
 * one yourself to point the tests at a service of your own. Not `ROOMWIRE_*`: the reference server refuses
 * unknown `ROOMWIRE_*` variables, and tests start it with their environment.
 */
export const TEST_ENV = {
  /** A Redis the cluster tests share, each under its own key prefix. Default `redis://127.0.0.1:6379`. */
  redisUrl: 'RW_TEST_REDIS_URL',
  /** The `redis-server` binary, for tests that start, stop or break a private Redis. Default: from `PATH`. */
  redisServer: 'RW_TEST_REDIS_SERVER',
  /** A PostgreSQL database with trust auth. Default `postgres://postgres@127.0.0.1:5432/test`. */
  postgresUrl: 'RW_TEST_POSTGRES_URL',
  /** The Chromium the browser tests drive. Default `/usr/bin/chromium`. */
  chromiumPath: 'CHROMIUM_PATH',
  /** Set to 1 to never install with apt-get, even as root: the run says what to install instead. */
  noInstall: 'RW_TEST_NO_INSTALL',
} as const

/** One of the variables in {@link TEST_ENV}. */
export type TestEnvName = (typeof TEST_ENV)[keyof typeof TEST_ENV]

/** The value the global setup gave a test service variable; throws when vitest ran without that setup. */
export function testEnv(name: TestEnvName): string {
  const value = process.env[name]
  if (value === undefined || value === '') {
    throw new Error(
      `${name} is not set: run the tests from the repository root (pnpm test, or pnpm exec vitest run --project NAME), whose global setup provides it`,
    )
  }
  return value
}
