/**
 * The test run's global setup (root vitest.config.ts): before any test, make sure Redis, PostgreSQL and
 * Chromium are there, and tell the tests where through the variables in `test-env.ts` (issue #16).
 *
 * For each service: use the one the variable names, else the machine's at its usual place when it answers;
 * else start a private one on a free loopback port for this run (stopped again in teardown); install what
 * is missing with apt-get when this process is root on Debian. When something cannot be had, stop before
 * any test with one line that says what to install.
 */
import { aptGet, aptInstall, canAptInstall } from './services/apt'
import { isExecutable, which } from './services/local'
import { findPostgresBin, postgresAnswers, startPrivatePostgres } from './services/postgres'
import { type PrivateService, redisAnswers, startPrivateRedis } from './services/redis'
import { TEST_ENV } from './test-env'

const DEFAULT_REDIS = 'redis://127.0.0.1:6379'
const DEFAULT_POSTGRES = 'postgres://postgres@127.0.0.1:5432/test'
const DEFAULT_CHROMIUM = '/usr/bin/chromium'

const started: PrivateService[] = []

/** What the setup found before starting anything: which servers answer, which programs are missing. */
interface Survey {
  redisUrl: string | undefined
  postgresUrl: string | undefined
  redisServer: string | undefined
  postgresBin: string | undefined
  chromium: string | undefined
}

async function survey(): Promise<Survey> {
  const env = process.env
  const redisUrl = env[TEST_ENV.redisUrl] || DEFAULT_REDIS
  const postgresUrl = env[TEST_ENV.postgresUrl] || DEFAULT_POSTGRES
  const chromium = env[TEST_ENV.chromiumPath] || DEFAULT_CHROMIUM
  const [redisUp, postgresUp] = await Promise.all([redisAnswers(redisUrl), postgresAnswers(postgresUrl)])
  // A location set by hand must answer: never start something else in its place.
  if (env[TEST_ENV.redisUrl] && !redisUp) fail(`${TEST_ENV.redisUrl}=${redisUrl} does not answer PING`)
  if (env[TEST_ENV.postgresUrl] && !postgresUp) {
    fail(`${TEST_ENV.postgresUrl}=${postgresUrl} does not accept user and database with trust auth`)
  }
  if (env[TEST_ENV.chromiumPath] && !isExecutable(chromium)) {
    fail(`${TEST_ENV.chromiumPath}=${chromium} is not an executable`)
  }
  const redisServer = env[TEST_ENV.redisServer] || which('redis-server')
  return {
    redisUrl: redisUp ? redisUrl : undefined,
    postgresUrl: postgresUp ? postgresUrl : undefined,
    // The outage tests start private Redis servers of their own, so the binary is needed in any case.
    redisServer: redisServer !== undefined && isExecutable(redisServer) ? redisServer : undefined,
    postgresBin: postgresUp ? undefined : findPostgresBin(),
    chromium: isExecutable(chromium) ? chromium : undefined,
  }
}

/** What the survey found missing: the Debian package that supplies it, and the variable that can stand in. */
function missingPackages(s: Survey): { name: string; variable: string }[] {
  return [
    ...(s.redisServer === undefined ? [{ name: 'redis-server', variable: TEST_ENV.redisServer }] : []),
    ...(s.postgresUrl === undefined && s.postgresBin === undefined
      ? [{ name: 'postgresql', variable: TEST_ENV.postgresUrl }]
      : []),
    ...(s.chromium === undefined ? [{ name: 'chromium', variable: TEST_ENV.chromiumPath }] : []),
  ]
}

function fail(line: string): never {
  process.stderr.write(`roomwire tests: ${line}\n`)
  process.exit(1)
}

export async function setup(): Promise<void> {
  let found = await survey()
  let missing = missingPackages(found).map((m) => m.name)
  if (missing.length > 0) {
    if (!canAptInstall() || process.env[TEST_ENV.noInstall] === '1') {
      const names = missing.join(' ')
      const variables = missingPackages(found).map((m) => m.variable)
      fail(
        `need ${missing.join(', ')}: ${aptGet() === undefined ? `install ${names} with your package manager` : `sudo apt-get install -y ${names}`} (or set ${variables.join(', ')})`,
      )
    }
    process.stdout.write(`test services: installing ${missing.join(' ')} with apt-get (once)…\n`)
    try {
      aptInstall(missing)
    } catch (err) {
      fail((err as Error).message)
    }
    // An installed server may have started itself (Debian's postinst); look again.
    found = await survey()
    missing = missingPackages(found).map((m) => m.name)
    if (missing.length > 0) fail(`apt-get installed ${missing.join(', ')} but it is still not there`)
  }
  const shown: string[] = []
  let redisUrl = found.redisUrl
  let postgresUrl = found.postgresUrl
  try {
    if (redisUrl === undefined) {
      const redis = await startPrivateRedis(found.redisServer!)
      started.push(redis)
      redisUrl = redis.url
      shown.push(`Redis ${redisUrl} (started for this run)`)
    } else shown.push(`Redis ${redisUrl}`)
    if (postgresUrl === undefined) {
      const postgres = await startPrivatePostgres(found.postgresBin!)
      started.push(postgres)
      postgresUrl = postgres.url
      shown.push(`PostgreSQL ${postgresUrl} (started for this run)`)
    } else shown.push(`PostgreSQL ${postgresUrl}`)
  } catch (err) {
    await teardown()
    fail((err as Error).message.split('\n')[0]!)
  }
  shown.push(`Chromium ${found.chromium}`)
  process.env[TEST_ENV.redisUrl] = redisUrl
  process.env[TEST_ENV.redisServer] = found.redisServer
  process.env[TEST_ENV.postgresUrl] = postgresUrl
  process.env[TEST_ENV.chromiumPath] = found.chromium
  process.stdout.write(`test services: ${shown.join(' · ')}\n`)
}

export async function teardown(): Promise<void> {
  await Promise.all(started.splice(0).map((service) => service.stop()))
}
