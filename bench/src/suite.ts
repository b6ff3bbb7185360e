import type { ScenarioName } from './load/loadgen-child'
import type { Implementation } from './servers/bench-server'
import type { ServerSettings } from './servers/server-settings'

/** How big a run is: the full benchmark, a shorter one, or the smoke test's tiny one. */
export type Size = 'full' | 'quick' | 'smoke'

/** One figure a scenario reports. */
export interface MetricSpec {
  key: string
  label: string
  unit: 'msg/s' | 'µs' | 'ms' | 'B' | 'conn/s' | 'count' | 'rt/s'
  better: 'higher' | 'lower'
  /** The headline figure of its scenario, checked by the smoke test. */
  primary?: boolean
}

/**
 * A target from issues 8 and 20: roomwire's figure over a peer's, bounded; over another scenario's
 * figure when `peerScenario` names one (the cluster over single-node fan-out); or roomwire's figure itself
 * when there is no `peer` (nothing lost).
 */
export interface Target {
  metric: string
  peer?: Implementation
  /** The id of the scenario whose `peer` figure (of the same metric) is the denominator. */
  peerScenario?: string
  min?: number
  max?: number
  /** What the target is, for the report, when the figure alone does not say. */
  note?: string
}

/** One scenario at one size: what to run, on which implementations, and what it reports. */
export interface ScenarioSpec {
  id: string
  title: string
  description: string
  scenario: ScenarioName
  impls: readonly Implementation[]
  params: unknown
  metrics: MetricSpec[]
  targets?: Target[]
  /** Server processes sharing one Redis (roomwire's cluster adapter); one plain process when absent. */
  servers?: number
  /** The server process for an implementation, when it is not the implementation itself. */
  serverFor?: (impl: Implementation) => Implementation
  standby?: boolean
  /** What the scenario changes in every server process (compression). */
  serverSettings?: ServerSettings
  timeoutMs: number
  /** For the chart: the room size of a fan-out scenario. */
  roomSize?: number
}

const latency: MetricSpec[] = [
  { key: 'p50Us', label: 'p50 latency', unit: 'µs', better: 'lower' },
  { key: 'p99Us', label: 'p99 latency', unit: 'µs', better: 'lower' },
]
const cpu: MetricSpec[] = [
  { key: 'serverCpu', label: 'server CPU (cores)', unit: 'count', better: 'lower' },
  { key: 'loadCpu', label: 'load generator CPU (cores)', unit: 'count', better: 'lower' },
]

interface Sizes {
  fanoutMembers: number[]
  bigRooms: number[]
  stormClients: number
  durationMs: number
  echoClients: number
  manyConnections: number
  idleConnections: number
  stormConnections: number
  reconnectClients: number
  clientMessages: number
}

const SIZES: Record<Size, Sizes> = {
  full: {
    fanoutMembers: [100, 1000, 5000],
    bigRooms: [1000, 5000, 10_000],
    stormClients: 200,
    durationMs: 3000,
    echoClients: 100,
    manyConnections: 10_000,
    idleConnections: 10_000,
    stormConnections: 5000,
    reconnectClients: 5000,
    clientMessages: 200_000,
  },
  quick: {
    fanoutMembers: [100, 1000],
    bigRooms: [1000, 5000],
    stormClients: 200,
    durationMs: 1500,
    echoClients: 100,
    manyConnections: 2000,
    idleConnections: 2000,
    stormConnections: 1000,
    reconnectClients: 1000,
    clientMessages: 50_000,
  },
  smoke: {
    fanoutMembers: [5],
    bigRooms: [20],
    stormClients: 8,
    durationMs: 150,
    echoClients: 4,
    manyConnections: 20,
    idleConnections: 20,
    stormConnections: 20,
    reconnectClients: 10,
    clientMessages: 300,
  },
}

/**
 * The echo scenario on roomwire with the memory store and with the Postgres history store (issue 18), then
 * pages of 50 from each: `--only postgres` runs both in the same run. The memory variant is the baseline.
 */
function historyStores(s: Sizes, size: Size): ScenarioSpec[] {
  const params = {
    clients: s.echoClients,
    durationMs: s.durationMs,
    pageClients: size === 'smoke' ? 2 : 10,
    pageLimit: 50,
  }
  const metrics: MetricSpec[] = [
    { key: 'roundTripsPerSec', label: 'publish round trips', unit: 'rt/s', better: 'higher', primary: true },
    ...latency,
    ...cpu,
    { key: 'serverUsPerRoundTrip', label: 'server CPU per round trip', unit: 'µs', better: 'lower' },
    { key: 'pagesPerSec', label: 'pages of 50', unit: 'rt/s', better: 'higher' },
    { key: 'pageP50Us', label: 'page p50 latency', unit: 'µs', better: 'lower' },
    { key: 'pageP99Us', label: 'page p99 latency', unit: 'µs', better: 'lower' },
    { key: 'serverUsPerPage', label: 'server CPU per page', unit: 'µs', better: 'lower' },
  ]
  const description = (store: string) =>
    `The echo scenario (${s.echoClients} clients, each alone in its room, publish and wait for the ack) on ` +
    `roomwire with ${store}; then ${params.pageClients} of them ask for the newest 50 messages of their ` +
    'room, one `history` request after another. PostgreSQL runs beside the two pinned processes, on ' +
    'whichever core is free: its own CPU is not in the server figure.'
  return [
    {
      id: 'postgres-memory',
      title: `Echo and pages of 50, memory store, ${s.echoClients} clients`,
      description: description('its memory history (the default), the baseline of the Postgres figures'),
      scenario: 'storeEcho',
      impls: ['roomwire'],
      serverSettings: { unlimitedReplay: true },
      params,
      metrics,
      timeoutMs: 60_000,
    },
    {
      id: 'postgres',
      title: `Echo and pages of 50, Postgres history store, ${s.echoClients} clients`,
      description: description(
        'the PostgreSQL history store (`createPostgresHistory`, defaults; a fresh table, dropped after): ' +
          'each ack waits for its row\u2019s commit',
      ),
      scenario: 'storeEcho',
      impls: ['roomwire'],
      serverSettings: { historyStore: 'postgres', unlimitedReplay: true },
      params,
      metrics,
      targets: [
        { metric: 'roundTripsPerSec', peer: 'roomwire', peerScenario: 'postgres-memory', min: 0.8 },
        { metric: 'p99Us', peer: 'roomwire', peerScenario: 'postgres-memory', note: 'reported' },
        { metric: 'serverUsPerPage', peer: 'roomwire', peerScenario: 'postgres-memory', note: 'reported' },
      ],
      timeoutMs: 60_000,
    },
  ]
}

/** The peers and roomwire (`--before` adds the earlier roomwire where it applies). */
const ALL: readonly Implementation[] = ['ws', 'uws', 'socketio', 'roomwire']

/** Runs per figure; the report gives the median. */
export const RUNS: Record<Size, number> = { full: 3, quick: 3, smoke: 1 }

/** Every scenario of issue 8 at `size`. */
export function buildSuite(size: Size): ScenarioSpec[] {
  const s = SIZES[size]
  const fanouts = s.fanoutMembers.map(
    (members): ScenarioSpec => ({
      id: `fanout-${members}`,
      title: `Fan-out, one room of ${members.toLocaleString('en-US')}`,
      description:
        'One publisher, one room. Throughput: the publisher keeps a fixed number of deliveries in flight. ' +
        'Latency: publish-to-receive at a fixed offered load of 20,000 deliveries/s, the same for all. ' +
        'The room is filled first, 250 joins at a time, waiting each time for the membership frames ' +
        'they cause (roomwire sends `member_joined` to every member; the peers send nothing).',
      scenario: 'fanout',
      impls: ALL,
      params: {
        members,
        durationMs: s.durationMs,
        windowDeliveries: 20_000,
        latencyDeliveriesPerSec: size === 'smoke' ? 500 : 20_000,
        latencyMs: s.durationMs,
      },
      metrics: [
        { key: 'deliveredPerSec', label: 'delivered', unit: 'msg/s', better: 'higher', primary: true },
        ...latency,
        { key: 'loadedP99Us', label: 'p99 latency at saturation', unit: 'µs', better: 'lower' },
        ...cpu,
        { key: 'serverUsPerDelivery', label: 'server CPU per delivery', unit: 'µs', better: 'lower' },
        {
          key: 'fillMs',
          label: 'time to fill the room (joins and their membership frames)',
          unit: 'ms',
          better: 'lower',
        },
      ],
      ...(members === 1000
        ? {
            targets: [
              { metric: 'serverUsPerDelivery', peer: 'ws', max: 0.6 },
              { metric: 'serverUsPerDelivery', peer: 'uws', max: 1.3 },
              { metric: 'p99Us', peer: 'ws', max: 1.0 },
              { metric: 'deliveredPerSec', peer: 'socketio', min: 2 },
            ],
          }
        : {}),
      // Filling a room of 5,000 sends roomwire's members 12.5 million member_joined frames first.
      timeoutMs: members >= 5000 ? 300_000 : 120_000,
      roomSize: members,
    }),
  )
  const clusterMembers = size === 'smoke' ? 6 : 1000
  const cluster: ScenarioSpec = {
    id: `cluster-fanout-${clusterMembers}`,
    title: `Cross-node fan-out over Redis, 3 processes, one room of ${clusterMembers.toLocaleString('en-US')}`,
    description:
      'The fan-out scenario on three roomwire processes sharing one Redis (`@roomwire/server/redis`): ' +
      'members spread evenly over the three, the publisher on one, so two thirds of every delivery cross ' +
      'nodes through Redis pub/sub and each publish is one Lua script (seq, history, dedupe, PUBLISH). ' +
      'Compare with roomwire in the single-process fan-out of the same room size. All three processes ' +
      'share core 0 (Redis floats), so this measures the cost of the cross-node path, not a scale-out gain.',
    scenario: 'clusterFanout',
    impls: ['roomwire'],
    servers: 3,
    params: {
      members: clusterMembers,
      durationMs: s.durationMs,
      // 20 publishes in flight, as in the single-process fan-out of 1,000 (more would only queue scripts).
      windowDeliveries: clusterMembers * 20,
      latencyDeliveriesPerSec: size === 'smoke' ? 500 : 20_000,
      latencyMs: s.durationMs,
    },
    metrics: [
      { key: 'deliveredPerSec', label: 'delivered', unit: 'msg/s', better: 'higher', primary: true },
      ...latency,
      { key: 'loadedP99Us', label: 'p99 latency at saturation', unit: 'µs', better: 'lower' },
      { key: 'serverCpu', label: 'server CPU, 3 processes (cores)', unit: 'count', better: 'lower' },
      { key: 'loadCpu', label: 'load generator CPU (cores)', unit: 'count', better: 'lower' },
      {
        key: 'serverUsPerDelivery',
        label: 'server CPU per delivery, 3 processes',
        unit: 'µs',
        better: 'lower',
      },
    ],
    targets: [
      { metric: 'serverUsPerDelivery', peer: 'roomwire', peerScenario: `fanout-${clusterMembers}`, max: 1.5 },
      { metric: 'p99Us', peer: 'roomwire', peerScenario: `fanout-${clusterMembers}`, note: 'reported' },
    ],
    timeoutMs: 120_000,
  }
  const bigRooms = s.bigRooms.map(
    (members): ScenarioSpec => ({
      id: `big-room-${members}`,
      title: `Big room, filled to ${members.toLocaleString('en-US')} members`,
      description:
        'Connections open at 1,000 a second, each joining one room as soon as it is welcomed. Filled: every ' +
        'join confirmed and, for roomwire, every member counting the room\u2019s final size (its `joined` ' +
        'list and member pages plus the membership frames since). The peers only accept and confirm (no ' +
        'membership at all), so their CPU is the floor of accepting the same connections.',
      scenario: 'bigRoom',
      impls: ['ws', 'uws', 'roomwire'],
      params: { members, joinsPerSec: size === 'smoke' ? 200 : 1000, settleTimeoutMs: 120_000 },
      metrics: [
        {
          key: 'fillMs',
          label: 'time to fill (last member counts all)',
          unit: 'ms',
          better: 'lower',
          primary: true,
        },
        { key: 'serverCpuMs', label: 'server CPU time over the fill', unit: 'ms', better: 'lower' },
        { key: 'serverUsPerMember', label: 'server CPU per member', unit: 'µs', better: 'lower' },
        { key: 'wrongCounts', label: 'members with a wrong count', unit: 'count', better: 'lower' },
        { key: 'membershipFrames', label: 'membership frames received', unit: 'count', better: 'lower' },
      ],
      ...(members === 5000
        ? {
            targets: [
              { metric: 'serverCpuMs', peer: 'ws', max: 3 },
              { metric: 'wrongCounts', max: 0, note: 'every member ends with the right count' },
            ],
          }
        : {}),
      timeoutMs: 240_000,
    }),
  )
  const compression: ScenarioSpec = {
    id: 'compression-storm',
    title: `Compression storm, ${s.stormClients} clients in one room`,
    description:
      `permessage-deflate on in the server. ${Math.round(s.stormClients * 0.75)} clients offer it and ` +
      `${s.stormClients - Math.round(s.stormClients * 0.75)} do not; every one publishes 10 messages of ` +
      '2,000 bytes at once; every other member should get all of them (measured after one unmeasured storm ' +
      'of the same mix, which warms the process up). Then the same storm in a fresh room ' +
      'with no client offering compression, in the same server process: CPU per delivery with over without. ' +
      'roomwire runs its defaults otherwise (1 MiB send-buffer cap, closing slow consumers with 4008).',
    scenario: 'deflateStorm',
    impls: ['ws', 'uws', 'roomwire'],
    serverSettings: { compression: true },
    params: {
      clients: s.stormClients,
      deflateClients: Math.round(s.stormClients * 0.75),
      publishesEach: 10,
      bytes: 2000,
      timeoutMs: 60_000,
    },
    metrics: [
      {
        key: 'lost',
        label: 'deliveries missing, with compression',
        unit: 'count',
        better: 'lower',
        primary: true,
      },
      { key: 'expected', label: 'deliveries expected', unit: 'count', better: 'higher' },
      { key: 'closed1006', label: 'closed 1006 (no close frame)', unit: 'count', better: 'lower' },
      { key: 'closed4008', label: 'closed 4008 (slow consumer)', unit: 'count', better: 'lower' },
      { key: 'stormMs', label: 'storm duration', unit: 'ms', better: 'lower' },
      { key: 'usPerDelivery', label: 'server CPU per delivery, compression on', unit: 'µs', better: 'lower' },
      {
        key: 'plainUsPerDelivery',
        label: 'server CPU per delivery, no client compressing',
        unit: 'µs',
        better: 'lower',
      },
      { key: 'cpuOnOverOff', label: 'CPU per delivery, on over off', unit: 'count', better: 'lower' },
      {
        key: 'plainLost',
        label: 'deliveries missing, no client compressing',
        unit: 'count',
        better: 'lower',
      },
    ],
    targets: [
      { metric: 'lost', max: 0, note: 'the storm delivers everything with compression on' },
      { metric: 'cpuOnOverOff', max: 1.5, note: 'fan-out CPU per delivery, compression on over off' },
    ],
    timeoutMs: 180_000,
  }
  return [
    ...fanouts,
    cluster,
    compression,
    ...bigRooms,
    {
      id: 'echo',
      title: `Echo, ${s.echoClients} clients`,
      description:
        'Each client alone in its room publishes with a `ref` and waits for the `ack` (Socket.IO: ' +
        '`emitWithAck`), one round trip after another.',
      scenario: 'echo',
      impls: ALL,
      params: { clients: s.echoClients, durationMs: s.durationMs },
      metrics: [
        { key: 'roundTripsPerSec', label: 'round trips', unit: 'rt/s', better: 'higher', primary: true },
        ...latency,
        ...cpu,
        { key: 'serverUsPerRoundTrip', label: 'server CPU per round trip', unit: 'µs', better: 'lower' },
      ],
      targets: [
        { metric: 'serverUsPerRoundTrip', peer: 'ws', max: 1.1 },
        { metric: 'serverUsPerRoundTrip', peer: 'uws', note: 'reported' },
      ],
      timeoutMs: 60_000,
    },
    ...historyStores(s, size),
    {
      id: 'request',
      title: `Request round trips, ${s.echoClients} clients`,
      description:
        'Each client calls a typed request (`{ n }` in, `{ n: n * 2 }` out, zod schemas both ways) and ' +
        'awaits the reply from a trivial handler, one call after another (issue 17). Raw ws and uWS answer ' +
        'the same JSON frame by hand (parse, read `input.n`, reply with the `ref`); Socket.IO with ' +
        '`emitWithAck`.',
      scenario: 'request',
      impls: ALL,
      serverSettings: { requests: true },
      params: { clients: s.echoClients, durationMs: s.durationMs },
      metrics: [
        { key: 'roundTripsPerSec', label: 'round trips', unit: 'rt/s', better: 'higher', primary: true },
        ...latency,
        ...cpu,
        { key: 'serverUsPerRoundTrip', label: 'server CPU per round trip', unit: 'µs', better: 'lower' },
      ],
      targets: [
        { metric: 'serverUsPerRoundTrip', peer: 'ws', max: 1.2 },
        { metric: 'serverUsPerRoundTrip', peer: 'uws', note: 'reported' },
      ],
      timeoutMs: 60_000,
    },
    {
      id: 'many-rooms',
      title: `Many rooms, ${s.manyConnections.toLocaleString('en-US')} connections in rooms of 10`,
      description:
        'Each room\u2019s first member publishes 2 messages/s (spread evenly); the other 9 receive. ' +
        'Same offered load for all; latency against the intended send time.',
      scenario: 'manyRooms',
      impls: ALL,
      params: { connections: s.manyConnections, roomSize: 10, perRoomRate: 2, durationMs: s.durationMs * 2 },
      metrics: [
        { key: 'deliveredPerSec', label: 'delivered', unit: 'msg/s', better: 'higher', primary: true },
        { key: 'offeredPerSec', label: 'offered', unit: 'msg/s', better: 'higher' },
        ...latency,
        ...cpu,
      ],
      timeoutMs: 180_000,
    },
    {
      id: 'idle-memory',
      title: `Idle memory, ${s.idleConnections.toLocaleString('en-US')} connections`,
      description:
        'Server process memory after a full GC (--expose-gc), connected and joined (rooms of 10) and idle, ' +
        'minus a baseline taken after 100 warm-up connections came and went, divided by the connection count.',
      scenario: 'idleMemory',
      impls: ALL,
      params: { connections: s.idleConnections, roomSize: 10, settleMs: size === 'smoke' ? 50 : 1000 },
      metrics: [
        { key: 'rssPerConnection', label: 'RSS per connection', unit: 'B', better: 'lower', primary: true },
        { key: 'heapPerConnection', label: 'JS heap per connection', unit: 'B', better: 'lower' },
        { key: 'externalPerConnection', label: 'external per connection', unit: 'B', better: 'lower' },
        { key: 'rssAfter', label: 'RSS with every connection open', unit: 'B', better: 'lower' },
      ],
      targets: [{ metric: 'rssPerConnection', peer: 'ws', max: 0.9 }],
      timeoutMs: 180_000,
    },
    {
      id: 'storm',
      title: `Connection storm, ${s.stormConnections.toLocaleString('en-US')} clients at once`,
      description:
        'Every client opens its socket in the same tick and joins a room (rooms of 10) as soon as it is ' +
        'welcomed; the time until the last join is confirmed. A storm of a fifth the size runs first, ' +
        'unmeasured, so a fresh process compiling its hot paths is not counted as join cost.',
      scenario: 'storm',
      impls: ALL,
      params: {
        connections: s.stormConnections,
        roomSize: 10,
        timeoutMs: 60_000,
        warmUp: Math.round(s.stormConnections / 5),
      },
      metrics: [
        { key: 'allJoinedMs', label: 'all joined', unit: 'ms', better: 'lower', primary: true },
        { key: 'medianJoinMs', label: 'median join', unit: 'ms', better: 'lower' },
        { key: 'serverUsPerJoin', label: 'server CPU per join', unit: 'µs', better: 'lower' },
        { key: 'serverUserUsPerJoin', label: 'of it user (JS, ws, Node)', unit: 'µs', better: 'lower' },
        { key: 'serverSystemUsPerJoin', label: 'of it system (kernel TCP)', unit: 'µs', better: 'lower' },
        { key: 'serverMainUserUsPerJoin', label: 'user, main thread only', unit: 'µs', better: 'lower' },
        { key: 'synsDropped', label: 'SYNs dropped (listen queue full)', unit: 'count', better: 'lower' },
        { key: 'failed', label: 'failed', unit: 'count', better: 'lower' },
      ],
      timeoutMs: 90_000,
    },
    {
      id: 'reconnect',
      title: `Reconnect after a server restart, ${s.reconnectClients.toLocaleString('en-US')} SDK clients`,
      description:
        'Real reconnecting clients with their default backoff (`@roomwire/client`; socket.io-client). ' +
        'The server process is killed (SIGKILL) and a new one listens on the same port at once; reconnects ' +
        'are timed from the kill. A lower peak means the backoff spreads the herd. Raw ws has no client.',
      scenario: 'reconnect',
      impls: ['socketio', 'roomwire'],
      params: { clients: s.reconnectClients, roomSize: 10, timeoutMs: size === 'smoke' ? 10_000 : 45_000 },
      metrics: [
        {
          key: 'peakPerSec',
          label: 'peak reconnects in 1 s',
          unit: 'conn/s',
          better: 'lower',
          primary: true,
        },
        { key: 'peakPer100Ms', label: 'peak reconnects in 100 ms', unit: 'count', better: 'lower' },
        { key: 'p50Ms', label: 'median time back', unit: 'ms', better: 'lower' },
        { key: 'allBackMs', label: 'all back', unit: 'ms', better: 'lower' },
        { key: 'notBack', label: 'not back', unit: 'count', better: 'lower' },
      ],
      standby: true,
      timeoutMs: 120_000,
    },
    {
      id: 'client',
      title: 'Client receive rate, one client',
      description:
        'One client alone in a room; the server pushes messages as fast as the socket takes them. roomwire: ' +
        '`@roomwire/client` with a `room.on` handler; raw ws: `ws` + `JSON.parse` + a handler (both fed by the ' +
        'raw ws peer, which speaks roomwire\u2019s JSON); Socket.IO: socket.io-client fed by Socket.IO.',
      scenario: 'client',
      impls: ['ws', 'socketio', 'roomwire'],
      params: { messages: s.clientMessages, timeoutMs: 60_000 },
      metrics: [{ key: 'messagesPerSec', label: 'handled', unit: 'msg/s', better: 'higher', primary: true }],
      serverFor: (impl) => (impl === 'roomwire' ? 'ws' : impl),
      timeoutMs: 90_000,
    },
  ]
}
