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
