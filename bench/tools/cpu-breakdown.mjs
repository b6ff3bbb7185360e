// Where a server's CPU went in a V8 .cpuprofile (from `node bench/run.mjs --profile --source`), by
// owner: each sample's self time goes to the nearest frame that has a source file (the JS that called a
// native function owns its time), grouped by package or file; start-up (module loading, tsx) and idle
// are left out. With the measured server CPU per operation (say echo's "server CPU per round trip"),
// each owner's share becomes microseconds per operation.
// Only the busiest `window` ms are counted (default 2,500: inside echo's measured 3 s), so start-up,
// warm-up and shutdown do not blur the figure.
//   node bench/tools/cpu-breakdown.mjs file.cpuprofile [µs per operation] [rows] [window ms]
import { readFileSync } from 'node:fs'

const [file, usArg, rowsArg, windowArg] = process.argv.slice(2)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n)

const STARTUP = /internal\/modules|internal\/bootstrap|tsx\/dist|esm\/hooks|source_map/
const SKIP = new Set(['(idle)', '(program)'])

function owner(node) {
  const leaf = node.callFrame
  if (leaf.functionName === '(garbage collector)') return { group: 'garbage collector', fn: '' }
  for (let n = node; n; n = parent.get(n.id)) {
    const f = n.callFrame
    if (STARTUP.test(f.url)) return undefined
  }
  for (let n = node; n; n = parent.get(n.id)) {
    const f = n.callFrame
    if (!f.url) continue
    const native = n === node ? '' : ` → ${leaf.functionName || '(native)'}`
    return { group: groupOf(f.url), fn: `${f.functionName || '(anonymous)'}${native}` }
  }
  return { group: `native: ${leaf.functionName || '(anonymous)'}`, fn: '' }
}

function groupOf(url) {
  const pkg = url.match(/node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\/(.*)$/)
  if (pkg) return pkg[1] === 'ws' ? `ws/${pkg[2]}` : pkg[1]
  const src = url.match(/(packages\/[^/]+\/src\/.*|bench\/src\/.*)$/)
  if (src) return src[1]
  return url.replace(/^file:\/\//, '').replace(/^node:/, 'node:')
}

// Sample times, then the window of `windowMs` with the most busy (non-idle) time.
const windowUs = Number(windowArg ?? 2500) * 1000
const at = []
let clock = 0
for (let i = 0; i < profile.samples.length; i++) {
  clock += profile.timeDeltas[i] ?? 0
  at.push(clock)
}
const busy = (i) => !SKIP.has(byId.get(profile.samples[i]).callFrame.functionName)
let best = [0, profile.samples.length]
let bestBusy = -1
let sum = 0
for (let lo = 0, hi = 0; hi < at.length; hi++) {
  if (busy(hi)) sum += profile.timeDeltas[hi] ?? 0
  while (at[hi] - at[lo] > windowUs) {
    if (busy(lo)) sum -= profile.timeDeltas[lo] ?? 0
    lo++
  }
  if (sum > bestBusy) {
    bestBusy = sum
    best = [lo, hi + 1]
  }
}

const groups = new Map()
const fns = new Map()
let total = 0
for (let i = best[0]; i < best[1]; i++) {
  const node = byId.get(profile.samples[i])
  const dt = profile.timeDeltas[i] ?? 0
  if (SKIP.has(node.callFrame.functionName)) continue
  const o = owner(node)
  if (!o) continue
  total += dt
  groups.set(o.group, (groups.get(o.group) ?? 0) + dt)
  const key = `${o.group}  ${o.fn}`
  fns.set(key, (fns.get(key) ?? 0) + dt)
}
const us = usArg === undefined ? undefined : Number(usArg)
const line = ([key, t]) => {
  const share = t / total
  const cost = us === undefined ? '' : `${(share * us).toFixed(2).padStart(7)} µs  `
  return `${(100 * share).toFixed(1).padStart(5)}%  ${cost}${key}`
}
console.log(
  `busy time ${(total / 1000).toFixed(0)} ms in the busiest ${windowUs / 1000} ms (idle and start-up left out)\n\nby owner:`,
)
for (const row of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(line(row))
console.log('\nby function:')
for (const row of [...fns].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg ?? 30))) console.log(line(row))
