import { defineConfig } from 'tsup'

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  external: ['react', '@roomwire/client', '@roomwire/protocol'],
  // esbuild drops module directives; the hooks are client code for React Server Components.
  banner: { js: "'use client';" },
})
