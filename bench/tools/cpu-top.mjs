// Self time by function in a V8 .cpuprofile (from `node bench/run.mjs --profile`), largest first.
//   node bench/tools/cpu-top.mjs file.cpuprofile [rows]
import { readFileSync } from 'node:fs'

const [file, rowsArg] = process.argv.slice(2)
const profile = JSON.parse(readFileSync(file, 'utf8'))
const byId = new Map(profile.nodes.map((n) => [n.id, n]))
const self = new Map()
let total = 0
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i])
  const dt = profile.timeDeltas[i] ?? 0
  const f = node.callFrame
  const where = f.url
    ? `${f.url.replace(/^.*node_modules\//, '').replace(/^.*\/work\/main\//, '')}:${f.lineNumber + 1}`
    : ''
  const key = `${f.functionName || '(anonymous)'} ${where}`
  self.set(key, (self.get(key) ?? 0) + dt)
  total += dt
}
const rows = [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(rowsArg ?? 30))
for (const [key, t] of rows) console.log(`${((100 * t) / total).toFixed(1).padStart(5)}%  ${key}`)
