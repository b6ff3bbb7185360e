// The browser bundle as an app's bundler makes it: ESM, minified, gzip, isomorphic-ws's browser build,
// zod left out (the app brings it). Resolved from source so it needs no build first.
export default [
  {
    name: '@roomwire/client (browser, min+gzip, without zod)',
    path: 'src/index.ts',
    import: '{ createClient }',
    ignore: ['zod'],
    gzip: true,
    limit: '9.8 kB',
    modifyEsbuildConfig: (config) => ({
      ...config,
      platform: 'browser',
      format: 'esm',
      conditions: ['@roomwire/source'],
    }),
  },
]
