import { readFileSync } from 'node:fs'
import { expect, it } from 'vitest'

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')

it('shows the example test in the README exactly as it is run', () => {
  const readme = read('README.md')
  const marker = '<!-- example: test/readme-example.test.ts -->\n```ts\n'
  const start = readme.indexOf(marker)
  expect(start).toBeGreaterThan(-1)
  const body = readme.slice(start + marker.length, readme.indexOf('```\n', start + marker.length))
  expect(body).toBe(read('test/readme-example.test.ts'))
})
