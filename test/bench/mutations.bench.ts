/**
 * npm run bench:mutations
 *
 * End-to-end latency of the control plane's writes, over HTTP against a service in its own
 * process, on the PostgreSQL server and on the embedded engine:
 *  - setRollout: p50 / p99 / max over SET_ROLLOUT_RUNS sequential calls (target p99 < 25 ms on
 *    PostgreSQL);
 *  - rollbackAll over 1,000 slices in one call (target < 1 s).
 * Then, in the same run, the peer: the Unleash server itself (unleash-peer.ts, on the same PostgreSQL
 * server), the same number of sequential toggles after the same warm-up, each the admin API call that
 * changes a flag's exposure, as setRollout does: PUT of a flexibleRollout strategy with a new
 * rollout percentage (Unleash writes the strategy and its event row in the call). Printed next to
 * setRollout with the ratio; the goal (issue 11): setRollout at or below the Unleash server's p50
 * and p99.
 * Prints figures; asserts nothing (machines are shared and noisy).
 *
 * BENCH_RUNS=2000  BENCH_ENGINES=postgres,embedded  BENCH_PEER=0 skips the Unleash server
 */
import pg from 'pg';
import { type BenchServer, graphql, percentile, startServer } from './bench-server.js';
import { PEER_ENVIRONMENT, startUnleashPeer } from './unleash-peer.js';

const SET_ROLLOUT_RUNS = Number(process.env.BENCH_RUNS ?? 2000);
const WARMUP = 200;
const ROLLBACK_ALL_SLICES = 1000;
const ROLLBACK_ALL_ROUNDS = 3;
const WITH_PEER = process.env.BENCH_PEER !== '0';

interface Latency {
  p50: number;
  p99: number;
  max: number;
  mean: number;
  runs: number;
}

interface Figures {
  engine: string;
  setRollout: Latency;
  rollbackAll: number[];
}

interface PeerFigures {
  version: string;
  toggle: Latency;
  /** Event rows the toggles wrote (feature-strategy-update), read from the peer's database afterwards. */
  events: number;
}

/** Times `call` SET_ROLLOUT_RUNS times, one at a time, after WARMUP untimed calls. */
async function sequentialLatency(call: (i: number) => Promise<unknown>): Promise<Latency> {
  for (let i = 0; i < WARMUP; i++) await call(i);
  const samples: number[] = [];
  for (let i = 0; i < SET_ROLLOUT_RUNS; i++) {
    const start = process.hrtime.bigint();
    await call(i);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  return {
    p50: percentile(samples, 50),
    p99: percentile(samples, 99),
    max: samples[samples.length - 1]!,
    mean: samples.reduce((a, b) => a + b, 0) / samples.length,
    runs: samples.length,
  };
}

async function setRolloutLatency(server: BenchServer): Promise<Latency> {
  await graphql(server, 'mutation { createSlice(key: "bench.set-rollout") { key } }');
  const mutation = 'mutation($p: Float!) { setRollout(key: "bench.set-rollout", percent: $p, reason: "bench") { version } }';
  return sequentialLatency((i) => graphql(server, mutation, { p: (i % 10000) / 100 }));
}

/**
 * The Unleash server's toggle: one flag with a flexibleRollout strategy, enabled in the token's
 * environment; each call PUTs the strategy with a new rollout percentage (what a release manager's
 * "roll out to N %" is in Unleash), which updates the strategy and writes its event row.
 */
async function peerToggleLatency(): Promise<PeerFigures> {
  const peer = await startUnleashPeer();
  try {
    const feature = 'bench.set-rollout';
    const base = `/api/admin/projects/default/features/${feature}/environments/${PEER_ENVIRONMENT}`;
    await peer.admin('POST', '/api/admin/projects/default/features', { name: feature, type: 'release' });
    const strategy = (s: number) => ({ name: 'flexibleRollout', constraints: [], parameters: { rollout: String(s), stickiness: 'userId', groupId: feature } });
    const { id } = await peer.admin<{ id: string }>('POST', `${base}/strategies`, strategy(0));
    await peer.admin('POST', `${base}/on`);
    const eventsBefore = await countEvents(peer.databaseUrl);
    // Percentages 1..100 in turn: never the same twice in a row, so each call changes the flag.
    const toggle = await sequentialLatency((i) => peer.admin('PUT', `${base}/strategies/${id}`, strategy((i % 100) + 1)));
    return { version: peer.version, toggle, events: (await countEvents(peer.databaseUrl)) - eventsBefore };
  } finally {
    await peer.stop();
  }
}

async function countEvents(databaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM events WHERE type = 'feature-strategy-update'");
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

async function rollbackAllLatency(server: BenchServer): Promise<number[]> {
  const times: number[] = [];
  for (let round = 0; round < ROLLBACK_ALL_ROUNDS; round++) {
    const tag = `bench-all-${round}`;
    // Create the slices a few at a time (setup, not measured).
    for (let i = 0; i < ROLLBACK_ALL_SLICES; i += 20) {
      await Promise.all(
        Array.from({ length: 20 }, (_, j) =>
          graphql(server, 'mutation($key: String!, $tag: String!) { createSlice(key: $key, tags: [$tag], percent: 50) { key } }', {
            key: `bench.all-${round}.s${i + j}`,
            tag,
          }),
        ),
      );
    }
    const start = process.hrtime.bigint();
    const result = await graphql<{ rollbackAll: { count: number } }>(server, 'mutation($tag: String!) { rollbackAll(tag: $tag, reason: "bench") { count } }', { tag });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (result.rollbackAll.count !== ROLLBACK_ALL_SLICES) throw new Error(`rolled back ${result.rollbackAll.count}, not ${ROLLBACK_ALL_SLICES}`);
  }
  return times;
}

async function run(engine: 'postgres' | 'embedded'): Promise<Figures> {
  const server = await startServer(engine);
  try {
    return { engine, setRollout: await setRolloutLatency(server), rollbackAll: await rollbackAllLatency(server) };
  } finally {
    await server.stop();
  }
}

const engines = (process.env.BENCH_ENGINES ?? 'postgres,embedded').split(',') as ('postgres' | 'embedded')[];
const results: Figures[] = [];
for (const engine of engines) results.push(await run(engine));
// After Switchyard's runs, alone: an idle peer's scheduled jobs would otherwise share the cores.
const peer = WITH_PEER ? await peerToggleLatency() : null;

const ms = (n: number) => `${n.toFixed(2)} ms`;
console.log(`\nsetRollout end to end over HTTP (${results[0]?.setRollout.runs} sequential calls after ${WARMUP} warm-up)`);
console.table(
  Object.fromEntries(
    results.map((r) => [
      r.engine,
      {
        p50: ms(r.setRollout.p50),
        p99: ms(r.setRollout.p99),
        max: ms(r.setRollout.max),
        mean: ms(r.setRollout.mean),
        'target (PostgreSQL): p99 < 25 ms': r.engine === 'postgres' ? (r.setRollout.p99 < 25 ? 'met' : 'MISSED') : 'n/a',
      },
    ]),
  ),
);
if (peer === null) {
  console.log(`\nUnleash server: skipped (BENCH_PEER=0); no ratios.`);
} else {
  const t = peer.toggle;
  console.log(
    `\nunleash-server@${peer.version} (npm registry) on the same PostgreSQL server: ${t.runs} sequential toggles after ${WARMUP} warm-up, ` +
      `each PUT /api/admin/projects/default/features/<flag>/environments/${PEER_ENVIRONMENT}/strategies/<id> with a new rollout percentage ` +
      `(${peer.events} feature-strategy-update event rows written, ${t.runs + WARMUP} expected)`,
  );
  console.table({ 'Unleash toggle': { p50: ms(t.p50), p99: ms(t.p99), max: ms(t.max), mean: ms(t.mean) } });
  const verdict = (ours: number, theirs: number) => `${(ours / theirs).toFixed(2)}x ${ours <= theirs ? '(at or below: met)' : '(above: MISSED)'}`;
  console.log('setRollout / Unleash toggle in this run (goal: at or below 1x)');
  console.table(Object.fromEntries(results.map((r) => [r.engine, { p50: verdict(r.setRollout.p50, t.p50), p99: verdict(r.setRollout.p99, t.p99) }])));
}
console.log(`\nrollbackAll of ${ROLLBACK_ALL_SLICES} ACTIVE slices in one call (${ROLLBACK_ALL_ROUNDS} rounds)`);
console.table(
  Object.fromEntries(
    results.map((r) => [
      r.engine,
      {
        rounds: r.rollbackAll.map(ms).join(', '),
        worst: ms(Math.max(...r.rollbackAll)),
        'target 1 s': Math.max(...r.rollbackAll) < 1000 ? 'met' : 'MISSED',
      },
    ]),
  ),
);
