import type { ViteUserConfig } from 'vitest/config'

/**
 * Resolve workspace packages to their `src/` through the `@roomwire/source` export condition, so tests
 * run against the code as it is, with no build first. Vitest's node projects read `ssr.resolve`.
 */
const conditions = ['@roomwire/source', 'module', 'node', 'development|production']

export const sourceResolution = {
  resolve: { conditions },
  ssr: { resolve: { conditions } },
} satisfies ViteUserConfig
