import fc from 'fast-check'
import { oddUnicode } from './arbitraries'
import { expectedType, type JsonSchema, type MessageGrammar, type Preferences, validMessage } from './grammar'

/** How deep `data` and presence `state` may nest (PROTOCOL.md "Details"; `maxNestingDepth`). */
export const NESTING_LIMIT = 32
/** The frame size limit of the server under test (`maxMessageBytes`). */
export const MAX_FRAME_BYTES = 65_536

/** A frame a fuzzer sends, with what it is (for failure messages) and what the grammar alone says of it. */
export type FuzzFrame =
  | {
      kind: 'text'
      text: string
      /** The message type it was generated from, and how it was changed. */
      note: string
      /**
       * Set when the protocol's text (not its implementation) says this frame must be refused, and why:
       * nesting past the limit, a required field missing, a wrong JSON type, a name too long.
       */
      mustRefuse?: string
      /** For nesting past the limit: the top-level field the error must name. */
      nestedIn?: string
    }
  | { kind: 'binary'; bytes: Uint8Array; note: string }
  | { kind: 'invalidUtf8'; bytes: Buffer; note: string }

type Path = (string | number)[]

/** Where the value of `path` sits: how many arrays and objects hold it inside the message object. */
function containersAbove(path: Path): number {
  return path.length - 1
}

/** Paths of a message's values: every top-level field, and nested ones inside objects and arrays. */
function pathsOf(message: Record<string, unknown>): Path[] {
  const paths: Path[] = []
  const walk = (value: unknown, path: Path) => {
    if (paths.length >= 40) return
    if (path.length > 0) paths.push(path)
    if (value === null || typeof value !== 'object' || path.length >= 4) return
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) walk(item, [...path, i])
    } else for (const key of Object.keys(value)) walk((value as Record<string, unknown>)[key], [...path, key])
  }
  walk(message, [])
  return paths
}

/** Objects of a message (the message itself included), where an extra key can go. */
function objectPathsOf(message: Record<string, unknown>): Path[] {
  return [[], ...pathsOf(message)].filter((path) => {
    const value = valueAt(message, path)
    return value !== null && typeof value === 'object' && !Array.isArray(value)
  })
}

function valueAt(root: unknown, path: Path): unknown {
  let value = root
  for (const step of path) value = (value as Record<string | number, unknown>)?.[step]
  return value
}

const same = (a: Path, b: Path) => a.length === b.length && a.every((step, i) => step === b[i])

interface Edit {
  /** Replace the value at `path` with this raw JSON text (undefined: drop the key). */
  replace?: { path: Path; text: string | undefined }
  /** Add `"key": text` to the object at `path`, after its own keys. */
  extra?: { path: Path; key: string; text: string }
}

/**
 * Serialize like JSON.stringify, with the edit applied as raw text: a value nesting 30,000 levels is
 * never built as an object (JSON.stringify would overflow the stack on it, as the v0.1 server did).
 */
function render(value: unknown, edit: Edit, path: Path = []): string | undefined {
  if (edit.replace !== undefined && same(edit.replace.path, path)) return edit.replace.text
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) {
    return `[${value.map((item, i) => render(item, edit, [...path, i]) ?? 'null').join(',')}]`
  }
  const parts: string[] = []
  for (const key of Object.keys(value)) {
    const text = render((value as Record<string, unknown>)[key], edit, [...path, key])
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`)
  }
  if (edit.extra !== undefined && same(edit.extra.path, path)) {
    parts.push(`${JSON.stringify(edit.extra.key)}:${edit.extra.text}`)
  }
  return `{${parts.join(',')}}`
}

/** JSON text nesting `depth` levels: arrays (2 bytes a level), objects (6 bytes) or both in turn. */
export function nested(depth: number, shape: 'array' | 'object' | 'mixed'): string {
  if (shape === 'array') return '['.repeat(depth) + ']'.repeat(depth)
  if (shape === 'object') return `${'{"a":'.repeat(depth)}0${'}'.repeat(depth)}`
  const pairs = Math.floor(depth / 2)
  const odd = depth % 2 === 1
  return `${'[{"a":'.repeat(pairs)}${odd ? '[]' : '0'}${'}]'.repeat(pairs)}`
}

/**
 * Depths from one level to past the frame limit: around the payload limit (31 to 35), the v0.1 crash
 * (4,110), and up to what 64 KiB holds (about 32,700 levels of arrays) and beyond (a 1009 close).
 */
export const depth = fc.oneof(
  fc.integer({ min: 1, max: 5 }),
  fc.integer({ min: NESTING_LIMIT - 2, max: NESTING_LIMIT + 3 }),
  fc.constantFrom(100, 1000, 4110, 10_000),
  fc.integer({ min: 20_000, max: 32_700 }),
  fc.integer({ min: 32_800, max: 40_000 }),
)

const wrongValues = [null, true, false, 0, -1, 1.5, 1e308, '', 'x', [], {}, [1], { a: 1 }]
const wrongText = fc.oneof(
  fc.constantFrom(...wrongValues).map((v) => JSON.stringify(v)),
  fc.constantFrom('9007199254740993', '-0', '1e400', '"\\ud800"', '"\\u0000"'),
)

type JsonKind = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object'
function kindOfText(text: string): JsonKind {
  const value: unknown = JSON.parse(text)
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number'
  return typeof value as JsonKind
}

function fits(kind: JsonKind, wanted: ReturnType<typeof expectedType>): boolean {
  if (wanted === 'any') return true
  if (wanted === 'number') return kind === 'number' || kind === 'integer'
  return kind === wanted
}

/** A `ref` value's text the protocol accepts: a string of 1 to 64 characters or a safe integer. */
function validRefText(text: string): boolean {
  const value: unknown = JSON.parse(text)
  return (typeof value === 'string' && value.length >= 1 && value.length <= 64) || Number.isSafeInteger(value)
}

/** What a top-level field's schema says; undefined for fields the message type does not have. */
function fieldSchema(grammar: MessageGrammar, field: string | number | undefined): JsonSchema | undefined {
  return typeof field === 'string' ? grammar.schema.properties?.[field] : undefined
}

/** The frames one message type yields: valid, and mutated in one of its fields. */
export function framesOf(grammar: MessageGrammar, prefer: Preferences = {}): fc.Arbitrary<FuzzFrame> {
  return validMessage(grammar, prefer).chain((message) => {
    const paths = pathsOf(message)
    const objects = objectPathsOf(message)
    const path = fc.constantFrom(...paths)
    const note = (what: string) => `${grammar.type}: ${what}`
    const text = (edit: Edit) => render(message, edit) ?? ''

    const valid = fc.constant<FuzzFrame>({ kind: 'text', text: text({}), note: note('valid') })

    const wrongType = fc.tuple(path, wrongText).map(([at, replacement]): FuzzFrame => {
      const top = at[0]
      const schema = at.length === 1 ? fieldSchema(grammar, top) : undefined
      const kind = kindOfText(replacement)
      let mustRefuse: string | undefined
      if (at.length === 1 && top === 'ref' && !validRefText(replacement)) mustRefuse = 'ref of a wrong shape'
      else if (schema !== undefined && schema.const !== undefined) {
        if (JSON.stringify(schema.const) !== replacement)
          mustRefuse = `${String(top)} is not ${JSON.stringify(schema.const)}`
      } else if (schema !== undefined && !fits(kind, expectedType(schema))) {
        mustRefuse = `${String(top)} must be ${expectedType(schema)}, not ${kind}`
      }
      const frame: FuzzFrame = {
        kind: 'text',
        text: text({ replace: { path: at, text: replacement } }),
        note: note(`${at.join('.')} = ${replacement}`),
      }
      if (mustRefuse !== undefined) frame.mustRefuse = mustRefuse
      return frame
    })

    const nest = fc
      .tuple(path, depth, fc.constantFrom('array' as const, 'object' as const, 'mixed' as const))
      .map(([at, levels, shape]): FuzzFrame => {
        const top = String(at[0])
        const frameDepth = 1 + containersAbove(at) + levels
        const frame: FuzzFrame = {
          kind: 'text',
          text: text({ replace: { path: at, text: nested(levels, shape) } }),
          note: note(`${at.join('.')} nests ${levels} levels (${shape})`),
        }
        if (frameDepth > NESTING_LIMIT + 1) {
          frame.mustRefuse = `nests ${frameDepth} levels with the message object`
          frame.nestedIn = top
        } else if (at.length === 1) {
          const wanted = expectedType(fieldSchema(grammar, top))
          if (top === 'ref' || (wanted !== 'any' && wanted !== 'object' && wanted !== 'array')) {
            frame.mustRefuse = `${top} must be ${top === 'ref' ? 'a string or an integer' : wanted}`
          }
        }
        return frame
      })

    const huge = fc
      .tuple(path, fc.constantFrom(129, 1000, 40_000, 64_000, 70_000), fc.constantFrom('x', '€', '\\u0000'))
      .map(([at, length, unit]): FuzzFrame => {
        const top = at[0]
        const schema = at.length === 1 ? fieldSchema(grammar, top) : undefined
        const frame: FuzzFrame = {
          kind: 'text',
          text: text({ replace: { path: at, text: `"${unit.repeat(length)}"` } }),
          note: note(`${at.join('.')} = a string of ${length} × ${unit}`),
        }
        const wanted = expectedType(schema)
        if (schema?.const !== undefined)
          frame.mustRefuse = `${String(top)} is not ${JSON.stringify(schema.const)}`
        else if (at.length === 1 && top === 'ref') frame.mustRefuse = 'ref longer than 64 characters'
        else if (schema !== undefined && wanted !== 'any' && wanted !== 'string')
          frame.mustRefuse = `${String(top)} must be ${wanted}`
        else if (schema?.maxLength !== undefined || schema?.pattern !== undefined) {
          frame.mustRefuse = `${String(top)} longer than its limit`
        }
        return frame
      })

    const protoKey = fc
      .tuple(
        fc.constantFrom(...objects),
        fc.constantFrom('__proto__', 'constructor', 'prototype'),
        fc.constantFrom(
          '{"polluted":true,"isAdmin":true}',
          '{"prototype":{"polluted":true}}',
          '"__proto__"',
          'null',
          '[]',
        ),
      )
      .map(
        ([at, key, value]): FuzzFrame => ({
          kind: 'text',
          text: text({ extra: { path: at, key, text: value } }),
          note: note(`${[...at, key].join('.')} = ${value}`),
        }),
      )

    const protoValue = fc
      .tuple(path, fc.constantFrom('"__proto__"', '"constructor"', '"prototype"'))
      .map(([at, value]): FuzzFrame => {
        const frame: FuzzFrame = {
          kind: 'text',
          text: text({ replace: { path: at, text: value } }),
          note: note(`${at.join('.')} = ${value}`),
        }
        const schema = at.length === 1 ? fieldSchema(grammar, at[0]) : undefined
        if (schema?.const !== undefined)
          frame.mustRefuse = `${String(at[0])} is not ${JSON.stringify(schema.const)}`
        return frame
      })

    const odd = fc.tuple(path, oddUnicode).map(
      ([at, value]): FuzzFrame => ({
        kind: 'text',
        text: text({ replace: { path: at, text: JSON.stringify(value) } }),
        note: note(`${at.join('.')} = ${JSON.stringify(value).slice(0, 40)}`),
      }),
    )

    const drop = fc.constantFrom(...Object.keys(message)).map((key): FuzzFrame => {
      const frame: FuzzFrame = {
        kind: 'text',
        text: text({ replace: { path: [key], text: undefined } }),
        note: note(`without ${key}`),
      }
      if (grammar.required.has(key)) frame.mustRefuse = `required ${key} missing`
      return frame
    })

    const duplicate = fc.tuple(fc.constantFrom(...Object.keys(message)), wrongText).map(
      ([key, value]): FuzzFrame => ({
        kind: 'text',
        text: text({ extra: { path: [], key, text: value } }),
        note: note(`${key} given twice, the second ${value}`),
      }),
    )

    const chars = fc
      .tuple(
        fc.array(
          fc.tuple(
            fc.constantFrom('truncate', 'replace', 'insert', 'duplicate'),
            fc.nat(),
            fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', '\u0000', 'x', '💥', ' ', '\ud800'),
          ),
          { minLength: 1, maxLength: 3 },
        ),
      )
      .map(([edits]): FuzzFrame => {
        let out = text({})
        for (const [kind, at, ch] of edits) {
          const i = out.length === 0 ? 0 : at % out.length
          if (kind === 'truncate') out = out.slice(0, i)
          else if (kind === 'replace') out = out.slice(0, i) + ch + out.slice(i + 1)
          else if (kind === 'insert') out = out.slice(0, i) + ch + out.slice(i)
          else out = out.slice(0, i) + out.slice(i, i + 20) + out.slice(i)
        }
        return { kind: 'text', text: out, note: note(`characters edited (${edits.length})`) }
      })

    const badUtf8 = fc
      .tuple(
        fc.nat(),
        fc.constantFrom(
          [0x80],
          [0xc0, 0xaf],
          [0xe0, 0x80, 0xaf],
          [0xed, 0xa0, 0x80],
          [0xf4, 0x90, 0x80, 0x80],
          [0xff],
          [0xe2, 0x82],
        ),
      )
      .map(([at, bad]): FuzzFrame => {
        const bytes = Buffer.from(text({}))
        const i = at % (bytes.length + 1)
        return {
          kind: 'invalidUtf8',
          bytes: Buffer.concat([bytes.subarray(0, i), Buffer.from(bad), bytes.subarray(i)]),
          note: note(`invalid UTF-8 at byte ${i}`),
        }
      })

    const binary = fc.oneof(
      fc.constant<FuzzFrame>({
        kind: 'binary',
        bytes: Buffer.from(text({})),
        note: note('sent as a binary frame'),
      }),
      fc
        .uint8Array({ maxLength: 200 })
        .map((bytes): FuzzFrame => ({ kind: 'binary', bytes, note: 'random bytes, binary' })),
    )

    return fc.oneof(
      { arbitrary: valid, weight: 3 },
      { arbitrary: wrongType, weight: 3 },
      { arbitrary: nest, weight: 4 },
      { arbitrary: huge, weight: 1 },
      { arbitrary: protoKey, weight: 2 },
      { arbitrary: protoValue, weight: 1 },
      { arbitrary: odd, weight: 1 },
      { arbitrary: drop, weight: 1 },
      { arbitrary: duplicate, weight: 1 },
      { arbitrary: chars, weight: 2 },
      { arbitrary: badUtf8, weight: 1 },
      { arbitrary: binary, weight: 1 },
    )
  })
}

/** Frames of every message type of a grammar, each type equally likely. */
export function grammarFrames(grammar: MessageGrammar[], prefer: Preferences = {}): fc.Arbitrary<FuzzFrame> {
  return fc.oneof(...grammar.map((g) => framesOf(g, prefer)))
}

/**
 * The systematic sweep: for every message type and every top-level field, and inside a payload, frames
 * nesting just under, at and past the limit, at the v0.1 crash depth, at the largest depth that fits the
 * frame limit, and past it. Random search finds the odd field late; this covers each one every run.
 */
export function nestingSweep(
  grammar: MessageGrammar[],
  sample: (g: MessageGrammar) => Record<string, unknown>,
): FuzzFrame[] {
  const frames: FuzzFrame[] = []
  for (const g of grammar) {
    const message = sample(g)
    const fields = [...g.fields.map((field) => [field] as Path)]
    for (const field of ['data', 'state', 'presence']) if (field in message) fields.push([field, 'x'])
    // A key no message type has (`__proto__`): the scan before parsing must refuse it as well.
    fields.push(['__proto__'])
    for (const at of fields) {
      // Room for the rest of the message, so that "the largest that fits" does fit.
      const rest = Buffer.byteLength(render(message, { replace: { path: at, text: '0' } }) ?? '')
      const fitting = Math.floor((MAX_FRAME_BYTES - rest - 16) / 2)
      for (const levels of [
        NESTING_LIMIT - 1,
        NESTING_LIMIT,
        NESTING_LIMIT + 1,
        NESTING_LIMIT + 2,
        4110,
        fitting,
        fitting + 1000,
      ]) {
        for (const shape of ['array', 'object'] as const) {
          if (shape === 'object' && levels > 5000) continue
          const base = at.length === 2 ? { ...message, [at[0]!]: { x: 0 } } : message
          const deep = nested(levels, shape)
          // A field the sample left out (an optional one) is added, nesting.
          const text =
            at.length === 1 && !Object.hasOwn(base, String(at[0]))
              ? (render(base, { extra: { path: [], key: String(at[0]), text: deep } }) ?? '')
              : (render(base, { replace: { path: at, text: deep } }) ?? '')
          const frameDepth = 1 + containersAbove(at) + levels
          const frame: FuzzFrame = {
            kind: 'text',
            text,
            note: `${g.type}: ${at.join('.')} nests ${levels} levels (${shape})`,
          }
          if (frameDepth > NESTING_LIMIT + 1) {
            frame.mustRefuse = `nests ${frameDepth} levels with the message object`
            frame.nestedIn = String(at[0])
          } else if (at.length === 1 && at[0] !== '__proto__') {
            const wanted = expectedType(g.schema.properties?.[String(at[0])])
            if (at[0] === 'ref' || (wanted !== 'any' && wanted !== 'object' && wanted !== 'array')) {
              frame.mustRefuse = `${String(at[0])} must be ${wanted}`
            }
          }
          frames.push(frame)
        }
      }
    }
  }
  return frames
}
