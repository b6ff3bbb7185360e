import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Both builds in one plain Node process, as an app loads them when it is ESM and a CJS dependency requires
// the server (the reference server's own bundle is the third copy, tested in cli.test.ts). Needs `pnpm build`.
const dist = fileURLToPath(new URL('../dist/', import.meta.url))

const script = `
import { createRequire } from 'node:module'
const esm = await import('./index.js')
const cjs = createRequire(import.meta.url)('./index.cjs')
const lookalike = Object.assign(new Error('x'), { name: 'RoomServerError', code: 'closed' })
console.log(JSON.stringify({
  twoClasses: esm.RoomServerError !== cjs.RoomServerError,
  instanceofAcross: new cjs.RoomServerError('unavailable', 'down') instanceof esm.RoomServerError,
  esmSeesCjs: [
    esm.isRoomServerError(new cjs.RoomServerError('unavailable', 'down')),
    esm.isRequestError(new cjs.RequestError('name_taken', 'taken')),
  ],
  cjsSeesEsm: [
    cjs.isRoomServerError(new esm.RoomServerError('closed', 'closed')),
    cjs.isRequestError(new esm.RequestError('name_taken', 'taken')),
  ],
  crossed: [
    esm.isRequestError(new esm.RoomServerError('closed', 'x')),
    esm.isRoomServerError(new esm.RequestError('closed', 'x')),
  ],
  others: [lookalike, null, undefined, 'RoomServerError', {}, Object.create(null)].map(esm.isRoomServerError),
}))
`

describe('isRoomServerError and isRequestError', () => {
  it('recognise an error from the other build in the same process, where instanceof does not', () => {
    expect(existsSync(`${dist}index.cjs`), 'no packages/server/dist: run pnpm build').toBe(true)
    const run = spawnSync(process.execPath, ['--input-type=module', '-'], {
      cwd: dist,
      input: script,
      encoding: 'utf8',
    })
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout)).toEqual({
      twoClasses: true,
      instanceofAcross: false,
      esmSeesCjs: [true, true],
      cjsSeesEsm: [true, true],
      crossed: [false, false],
      others: [false, false, false, false, false, false],
    })
  })
})
