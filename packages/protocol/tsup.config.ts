import { defineConfig } from 'tsup'

const shared = { clean: true, target: 'es2022', platform: 'neutral' } as const

export default defineConfig([
  {
    ...shared,
    // ESM keeps one file per source module, so a bundler drops what an app does not import: the client
    // imports only zod-free modules (the hand-written decoder among them), so zod stays out of its bundle
    // (issue #15). A single bundled file would keep every top-level zod call.
    entry: ['src/*.ts'],
    format: ['esm'],
    splitting: true,
    dts: { entry: 'src/index.ts' },
  },
  { ...shared, entry: ['src/index.ts'], format: ['cjs'], dts: { entry: 'src/index.ts' } },
])
