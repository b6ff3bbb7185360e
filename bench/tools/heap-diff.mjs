// Compare two V8 heap snapshots (.heapsnapshot): self size and count by constructor or type, largest
// growth first. Used to find what an idle connection costs (`node bench/run.mjs --heap-snapshot`).
//   node bench/tools/heap-diff.mjs before.heapsnapshot after.heapsnapshot [per] [top]
import { readFileSync } from 'node:fs'

function summarize(path) {
  const s = JSON.parse(readFileSync(path, 'utf8'))
  const f = s.snapshot.meta.node_fields
  const types = s.snapshot.meta.node_types[0]
  const width = f.length
  const iType = f.indexOf('type')
  const iName = f.indexOf('name')
  const iSize = f.indexOf('self_size')
  const out = new Map()
  const nodes = s.nodes
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]]
    let name = s.strings[nodes[i + iName]]
    if (type === 'string' || type === 'concatenated string' || type === 'sliced string') name = '(string)'
    else if (type === 'code') name = '(code)'
    else if (type === 'number') name = '(number)'
    else if (type === 'closure') name = `closure ${name}`
    else if (type === 'array') name = `array ${name}`
    else if (type === 'hidden') name = `hidden ${name.slice(0, 60)}`
    else if (type === 'object shape') name = `shape ${name.slice(0, 40)}`
    else name = `${type === 'object' ? '' : `${type} `}${name.slice(0, 60)}`
    const e = out.get(name) ?? { size: 0, count: 0 }
    e.size += nodes[i + iSize]
    e.count++
    out.set(name, e)
  }
  return out
}

const [a, b, perArg, topArg] = process.argv.slice(2)
const per = Number(perArg ?? 1)
const top = Number(topArg ?? 40)
const before = summarize(a)
const after = summarize(b)
const rows = []
let total = 0
for (const [name, e] of after) {
  const d = before.get(name) ?? { size: 0, count: 0 }
  const size = e.size - d.size
  total += size
  rows.push({ name, size, count: e.count - d.count })
}
for (const [name, d] of before) if (!after.has(name)) total -= d.size
rows.sort((x, y) => y.size - x.size)
console.log(`total growth ${total} B, ${(total / per).toFixed(1)} B per unit (per = ${per})`)
for (const r of rows.slice(0, top))
  console.log(
    `${(r.size / per).toFixed(1).padStart(8)} B  ${(r.count / per).toFixed(2).padStart(6)}x  ${r.name}`,
  )
