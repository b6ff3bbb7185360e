// What an app's bundler adds for roomwire (issue #15): the built dist/ as published, ESM, minified and
// gzipped, with every dependency bundled (isomorphic-ws's browser build) and nothing left out but React
// itself. Run after `pnpm build`. zod is in neither: the client decodes frames without it, and app schemas
// are the app's own cost.
const browser = (config) => ({ ...config, platform: 'browser', format: 'esm' })

export default [
  {
    name: 'createClient from @roomwire/client (min+gzip, all dependencies)',
    path: 'dist/index.js',
    import: '{ createClient }',
    gzip: true,
    // Issue #15's budget is 6 kB. Measured 13.36 kB after issue 14's client split: the client's own code
    // is 11.0 kB of it, the protocol's zod-free decoder and rules 2.3 kB (zod was 24 kB more before).
    // Lower this as the client shrinks. Issue 18 (room.history, the log's loadOlder, the history frame in
    // the decoder) measured 14.2 kB; issue 17's requests (requests.ts, the reply decoder) about 1.6 kB more,
    // its wire cancel and the log's first-message check (hasOlder) 60 B more: 15.96 kB.
    // Issue 20's counts mode (memberCount, loadMembers, three frames in the decoder) 0.19 kB more: 16.21 kB.
    // The reconnect wait keeping a Node process alive (keepProcessAlive) 50 B more: 16.32 kB.
    // First-run error texts, the retried join's error, and the fixes a hostile server found (epoch change,
    // 4001 backoff, replay clamp, heartbeat floor): 16.60 kB.
    limit: '16.7 kB',
    modifyEsbuildConfig: browser,
  },
  {
    name: '@roomwire/react on top of the client (min+gzip, react itself left out)',
    path: '../react/dist/index.js',
    import: '*',
    ignore: ['react', 'react-dom', '@roomwire/client'],
    gzip: true,
    // Issue 15's budget: 2 kB. 1.97 kB before issue 20's useMemberCount, 2.00 kB with it: nothing left.
    limit: '2 kB',
    modifyEsbuildConfig: browser,
  },
  {
    name: 'createClient with @roomwire/react (min+gzip, react itself left out)',
    path: ['dist/index.js', '../react/dist/index.js'],
    import: { 'dist/index.js': '{ createClient }', '../react/dist/index.js': '*' },
    ignore: ['react', 'react-dom'],
    gzip: true,
    // 15.86 kB measured with issue 18's history pages; issue 17's requests add about 1.6 kB, its
    // cancel and the log's first-message check 60 B: 17.61 kB.
    // Issue 20's counts mode 0.24 kB more: 17.9 kB. keepProcessAlive: 18.0 kB. The fixes above: 18.3 kB.
    limit: '18.4 kB',
    modifyEsbuildConfig: browser,
  },
]
