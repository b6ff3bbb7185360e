import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// Both builds in one plain Node process, as a program loads them when an ESM app has a CJS dependency
// that requires the client: two RoomwireError classes. Needs `pnpm build` first.
const dist = fileURLToPath(new URL('../dist/', import.meta.url))

const script = `
import { createRequire } from 'node:module'
const esm = await import('./index.js')
const cjs = createRequire(import.meta.url)('./index.cjs')
const fromCjs = new cjs.RoomwireError('rate_limited', 'slow down')
const fromEsm = new esm.RoomwireError('closed', 'closed')
const lookalike = Object.assign(new Error('x'), { name: 'RoomwireError', code: 'closed' })
console.log(JSON.stringify({
  twoClasses: esm.RoomwireError !== cjs.RoomwireError,
  instanceofAcross: fromCjs instanceof esm.RoomwireError,
  esmSeesCjs: esm.isRoomwireError(fromCjs),
  cjsSeesEsm: cjs.isRoomwireError(fromEsm),
  others: [lookalike, null, undefined, 'RoomwireError', {}, Object.create(null)].map(esm.isRoomwireError),
}))
`

describe('isRoomwireError', () => {
  it('recognises an error from the other build in the same process, where instanceof does not', () => {
    expect(existsSync(`${dist}index.cjs`), 'no packages/client/dist: run pnpm build').toBe(true)
    // --input-type=module with a cwd in dist/ resolves './index.js' there; stdin keeps the script whole.
    const run = spawnSync(process.execPath, ['--input-type=module', '-'], {
      cwd: dist,
      input: script,
      encoding: 'utf8',
    })
    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout)).toEqual({
      twoClasses: true,
      instanceofAcross: false,
      esmSeesCjs: true,
      cjsSeesEsm: true,
      others: [false, false, false, false, false, false],
    })
  })
})
