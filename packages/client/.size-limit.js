// The browser bundle as an app's bundler makes it: ESM, minified, gzip, isomorphic-ws's browser build,
// zod left out (the app brings it). Resolved from source so it needs no build first.
export default [
  {
    name: '@roomwire/client (browser, min+gzip, without zod)',
    path: 'src/index.ts',
    import: '{ createClient }',
    ignore: ['zod'],
    gzip: true,
    // 12.55 kB measured after issues 12 and 13 (10.11 kB before them: the protocol's nesting scan and
    // members schema already passed 9.8 kB); a later issue brings it down to 6 kB.
    limit: '12.7 kB',
    modifyEsbuildConfig: (config) => ({
      ...config,
      platform: 'browser',
      format: 'esm',
      conditions: ['@roomwire/source'],
    }),
  },
]
