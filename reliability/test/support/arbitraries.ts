import fc from 'fast-check'

/** Keys that pollute a prototype when a server merges or assigns them carelessly. */
export const hostileKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'prototype',
  'polluted',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
  'isAdmin',
)

/** Strings no room or event name allows: controls, lone surrogates, bidi and zero-width marks, emoji. */
export const oddUnicode = fc.oneof(
  fc.constantFrom(
    '\u0000',
    '\ud800',
    '\udfff',
    'r\u202eoom',
    'r\u200bo',
    '💥',
    'ｒｏｏｍ',
    'room\n',
    ' room',
    'ro om',
    'é',
    '\ufeff',
    'r'.repeat(129),
    '',
  ),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
)

/** JSON text (not values: `__proto__` must survive as an own key, as JSON.parse leaves it). */
export const jsonText: fc.Arbitrary<string> = fc.letrec<{
  value: string
  leaf: string
  object: string
  array: string
}>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, tie('leaf'), tie('object'), tie('array')),
  leaf: fc.oneof(
    fc.constantFrom('null', 'true', 'false', '0', '-0', '1e308', '-1e-308', '9007199254740993', '""'),
    fc.double().map((d) => JSON.stringify(d)),
    fc.integer().map(String),
    fc.string({ maxLength: 20 }).map((s) => JSON.stringify(s)),
    oddUnicode.map((s) => JSON.stringify(s)),
  ),
  object: fc
    .array(fc.tuple(fc.oneof(hostileKey, fc.string({ maxLength: 8 })), tie('value')), { maxLength: 4 })
    .map((entries) => `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`),
  array: fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
})).value

/** A field value: usually a plausible one, often of the wrong type or shape, sometimes huge. */
function fieldValue(plausible: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.oneof(
    { arbitrary: plausible, weight: 4 },
    { arbitrary: jsonText, weight: 3 },
    { arbitrary: oddUnicode.map((s) => JSON.stringify(s)), weight: 1 },
    { arbitrary: fc.integer({ min: 100, max: 40_000 }).map((n) => JSON.stringify('x'.repeat(n))), weight: 1 },
  )
}

const room = fc
  .constantFrom('r', 'fuzz', 'fuzz/a', '__proto__', 'constructor', 'hasOwnProperty')
  .map((s) => JSON.stringify(s))
const event = fc
  .constantFrom('chat', 'e', '__proto__', 'constructor', 'toString')
  .map((s) => JSON.stringify(s))
const ref = fc.oneof(
  fc.integer().map(String),
  fc.string({ minLength: 1, maxLength: 70 }).map((s) => JSON.stringify(s)),
)
const seq = fc.oneof(fc.nat().map(String), fc.constantFrom('-1', '1e400', '1.5', '9007199254740993', '"3"'))

const fields: Record<string, fc.Arbitrary<string>> = {
  room: fieldValue(room),
  event: fieldValue(event),
  to: fieldValue(fc.constantFrom('"c_nobody"', '"__proto__"')),
  data: fieldValue(jsonText),
  state: fieldValue(jsonText),
  presence: fieldValue(jsonText),
  since: fieldValue(seq),
  epoch: fieldValue(fc.constantFrom('"e_1"', '"__proto__"')),
  history: fieldValue(fc.oneof(seq, fc.constant('1000000000'))),
  ref: fieldValue(ref),
  echo: fieldValue(fc.constantFrom('true', 'false')),
  id: fieldValue(fc.string({ minLength: 1, maxLength: 70 }).map((s) => JSON.stringify(s))),
  t: fieldValue(fc.double().map((d) => JSON.stringify(d))),
}

const type = fc.oneof(
  { arbitrary: fc.constantFrom('join', 'leave', 'publish', 'direct', 'presence', 'ping'), weight: 6 },
  { arbitrary: fc.constantFrom('nope', '__proto__', 'constructor', '', 'JOIN', 'welcome'), weight: 1 },
)

/** A client message in the right shape or close to it: right `type`, fields of any type. */
export const messageText: fc.Arbitrary<string> = fc
  .tuple(
    fc.oneof(
      { arbitrary: type.map((t) => JSON.stringify(t)), weight: 9 },
      { arbitrary: jsonText, weight: 1 },
    ),
    fc
      .subarray(Object.keys(fields))
      .chain((names) =>
        fc.tuple(...names.map((name) => fields[name]!.map((value) => [name, value] as const))),
      ),
    fc.option(hostileKey, { freq: 4 }),
    fc.option(jsonText, { freq: 4 }),
  )
  .map(([t, entries, extraKey, extraValue]) => {
    const parts = [`"type":${t}`, ...entries.map(([k, v]) => `"${k}":${v}`)]
    if (extraKey !== null) parts.push(`${JSON.stringify(extraKey)}:${extraValue ?? 'null'}`)
    return `{${parts.join(',')}}`
  })

/** A message text changed at the character level (it stays valid UTF-16, so the frame is valid UTF-8). */
export const mutatedText: fc.Arbitrary<string> = fc
  .tuple(
    messageText,
    fc.array(
      fc.tuple(
        fc.constantFrom('truncate', 'replace', 'insert', 'duplicate'),
        fc.nat(),
        fc.constantFrom('{', '}', '[', ']', '"', ':', ',', '\\', '\u0000', 'x', '💥', ' ', '\ud800'),
      ),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([text, edits]) => {
    let out = text
    for (const [kind, at, ch] of edits) {
      const i = out.length === 0 ? 0 : at % out.length
      if (kind === 'truncate') out = out.slice(0, i)
      else if (kind === 'replace') out = out.slice(0, i) + ch + out.slice(i + 1)
      else if (kind === 'insert') out = out.slice(0, i) + ch + out.slice(i)
      else out = out.slice(0, i) + out.slice(i, i + 20) + out.slice(i)
    }
    return out
  })

/** Deep nesting under the size limit (the JSON.parse / validator recursion class, M4). */
export const deepText = fc.oneof(
  fc.integer({ min: 1, max: 30_000 }).map((n) => '['.repeat(n) + ']'.repeat(n)),
  fc.integer({ min: 1, max: 20_000 }).map((n) => '['.repeat(n)),
  fc
    .integer({ min: 20, max: 6_000 })
    .map((n) => `{"type":"publish","room":"r","event":"e","data":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}`),
  fc
    .integer({ min: 20, max: 6_000 })
    .map((n) => `{"type":"presence","room":"r","state":${'['.repeat(n)}${']'.repeat(n)}}`),
)

/** What the attacker sends: a text frame or a binary one. */
export type Frame = { kind: 'text'; text: string } | { kind: 'binary'; bytes: Uint8Array }

export const frame: fc.Arbitrary<Frame> = fc.oneof(
  { arbitrary: messageText.map((text) => ({ kind: 'text' as const, text })), weight: 8 },
  { arbitrary: mutatedText.map((text) => ({ kind: 'text' as const, text })), weight: 4 },
  { arbitrary: deepText.map((text) => ({ kind: 'text' as const, text })), weight: 1 },
  {
    arbitrary: fc
      .string({ unit: 'grapheme', maxLength: 100 })
      .map((text) => ({ kind: 'text' as const, text })),
    weight: 1,
  },
  {
    arbitrary: fc.uint8Array({ maxLength: 200 }).map((bytes) => ({ kind: 'binary' as const, bytes })),
    weight: 1,
  },
)
