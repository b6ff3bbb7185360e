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
    // members schema already passed 9.8 kB). Issue 14's one-owner split of the client into small parts
    // (transport, env, registry, join handshake, room messages and members, after-close) measured
    // 13.49 kB: about 1 kB gzip of class and module overhead for 13 units. Issue 15's hand-written frame
    // decoder (instead of zod's schemas) brings it down to 6 kB.
    limit: '13.6 kB',
    modifyEsbuildConfig: (config) => ({
      ...config,
      platform: 'browser',
      format: 'esm',
      conditions: ['@roomwire/source'],
    }),
  },
]
