import { EVENT_NAME_PATTERN, EVENT_NAME_RULE } from './name-rules'

/**
 * Whether `value` is a schema roomwire can run: a Standard Schema (zod 4, valibot, arktype) or zod's own.
 * A plain object or a string in its place would pass the type check of a JavaScript app and throw a
 * TypeError without a code at the first publish.
 */
export function isSchema(value: unknown): boolean {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false
  const standard = (value as { '~standard'?: { validate?: unknown } })['~standard']
  return typeof standard?.validate === 'function' || '_zod' in value
}

/**
 * Check `events` or `direct` at definition time: every name one the server accepts on the wire (a
 * `'chat message'` event would be refused at every publish), every value a schema.
 */
export function checkSchemaMap(
  map: Record<string, unknown> | undefined,
  what: 'event' | 'direct event',
): void {
  if (map === undefined) return
  if (typeof map !== 'object' || map === null) {
    throw new TypeError(`defineProtocol: ${what}s must be an object of schemas by name`)
  }
  for (const [name, schema] of Object.entries(map)) {
    if (!EVENT_NAME_PATTERN.test(name)) {
      throw new TypeError(`defineProtocol: ${what} name "${name}" ${EVENT_NAME_RULE}`)
    }
    if (!isSchema(schema)) {
      throw new TypeError(`defineProtocol: ${what} "${name}" is not a schema (give a zod or Standard Schema)`)
    }
  }
}

/** Check one schema slot of a definition (`presence`, a request's `input` or `output`). */
export function checkSchema(schema: unknown, where: string, optional: boolean): void {
  if (schema === undefined && optional) return
  if (!isSchema(schema)) {
    throw new TypeError(
      `defineProtocol: ${where} is ${schema === undefined ? 'missing' : 'not a schema'} (give a zod or Standard Schema)`,
    )
  }
}
