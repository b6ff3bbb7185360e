import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { checkSource, checkWorkspace, lineCount, SIZE_LIMITS } from '../check-sizes'

const root = fileURLToPath(new URL('../..', import.meta.url))

/** The check as `pnpm lint` runs it, on this workspace or the one given. */
const run = (...workspace: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'check-sizes.ts'), ...workspace], {
    cwd: root,
    encoding: 'utf8',
  })

/** `count` lines of statements, each a line of its own. */
const statements = (count: number, indent = '  ') =>
  Array.from({ length: count }, (_, i) => `${indent}total += ${i}\n`).join('')

/** A function declaration spanning exactly `lines` lines (its header and closing brace included). */
const functionOf = (lines: number) =>
  `export function long(): number {\n  let total = 0\n${statements(lines - 4)}  return total\n}\n`

/** A file of exactly `lines` lines, none of them in a function. */
const fileOf = (lines: number) =>
  Array.from({ length: lines }, (_, i) => `export const v${i} = ${i}\n`).join('')

describe('the size check (issue 14: files 350 lines, functions 150)', () => {
  it('counts lines as an editor does', () => {
    expect(lineCount('')).toBe(0)
    expect(lineCount('a')).toBe(1)
    expect(lineCount('a\n')).toBe(1)
    expect(lineCount('a\nb')).toBe(2)
  })

  it('passes a file of 350 lines and fails one of 351', () => {
    expect(lineCount(fileOf(350))).toBe(350)
    expect(checkSource('ok.ts', fileOf(SIZE_LIMITS.fileLines))).toEqual([])
    expect(checkSource('big.ts', fileOf(351))).toEqual([
      { file: 'big.ts', line: 1, what: 'file', lines: 351, limit: 350 },
    ])
  })

  it('passes a function of 150 lines and fails one of 151', () => {
    expect(lineCount(functionOf(150))).toBe(150)
    expect(checkSource('ok.ts', functionOf(150))).toEqual([])
    expect(checkSource('long.ts', functionOf(151))).toEqual([
      { file: 'long.ts', line: 1, what: 'long', lines: 151, limit: 150 },
    ])
  })

  it('finds methods, constructors, accessors and arrow functions, by the name a reader searches for', () => {
    const body = `{\n${statements(151, '    ')}  }`
    const text = [
      '// a leading comment is not part of the function',
      'class Room {',
      `  constructor() ${body}`,
      `  get size() ${body}`,
      `  publish() ${body}`,
      `  readonly send = () => ${body}`,
      '}',
      `const handler = function () ${body}`,
      `const table = { join: (x: number) => ${body} }`,
      `setTimeout(() => ${body})`,
      '',
    ].join('\n')
    const found = checkSource('many.ts', text).map((v) => `${v.what}@${v.line}:${v.lines}`)
    expect(found).toEqual([
      'file@1:1074',
      'Room.constructor@3:153',
      'Room.size@156:153',
      'Room.publish@309:153',
      'Room.send@462:153',
      'handler@616:153',
      'join@769:153',
      '<arrow>@922:153',
    ])
  })

  it('is not fooled by braces in strings, template literals or comments', () => {
    const text = `export function f(): string {\n  // }\n  const s = '}}}'\n  return \`\${s}}\`\n}\n${fileOf(10)}`
    expect(checkSource('braces.ts', text, { fileLines: 350, functionLines: 4 })).toEqual([
      { file: 'braces.ts', line: 1, what: 'f', lines: 5, limit: 4 },
    ])
  })

  it('parses .tsx', () => {
    const jsx = `export function View() {\n  return (\n    <ul>\n${statements(150, '      ').replace(/total \+= (\d+)/g, '<li>$1</li>')}    </ul>\n  )\n}\n`
    expect(checkSource('view.tsx', jsx)).toMatchObject([{ what: 'View', lines: 156 }])
  })

  it('fails with the list of what is over, and passes a workspace where everything fits', () => {
    const workspace = mkdtempSync(join(tmpdir(), 'roomwire-sizes-'))
    mkdirSync(join(workspace, 'packages', 'a', 'src', 'nested'), { recursive: true })
    mkdirSync(join(workspace, 'packages', 'b', 'src'), { recursive: true })
    mkdirSync(join(workspace, 'packages', 'no-src'), { recursive: true })
    writeFileSync(join(workspace, 'packages', 'a', 'src', 'fits.ts'), functionOf(150))
    writeFileSync(join(workspace, 'packages', 'b', 'src', 'fits.tsx'), fileOf(350))
    expect(checkWorkspace(workspace)).toEqual([])
    writeFileSync(join(workspace, 'packages', 'a', 'src', 'nested', 'long.ts'), functionOf(151))
    writeFileSync(join(workspace, 'packages', 'b', 'src', 'big.ts'), fileOf(351))
    writeFileSync(join(workspace, 'packages', 'b', 'src', 'notes.md'), fileOf(400))
    expect(checkWorkspace(workspace).map((v) => `${v.file}:${v.what}`)).toEqual([
      'packages/a/src/nested/long.ts:long',
      'packages/b/src/big.ts:file',
    ])
    const result = run(workspace)
    expect(result.status).toBe(1)
    expect(result.stderr.trim().split('\n').slice(1)).toEqual([
      '  packages/a/src/nested/long.ts:1: function long is 151 lines (limit 150)',
      '  packages/b/src/big.ts:1: file is 351 lines (limit 350)',
    ])
  })

  it('passes this repository, as `pnpm lint` runs it', () => {
    const result = run()
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
  })
})
