/**
 * npm run bench:mutations
 *
 * End-to-end latency of the control plane's writes, over HTTP against a service in its own
 * process, on the PostgreSQL server and on the embedded engine:
 *  - setRollout: p50 / p99 / max over SET_ROLLOUT_RUNS sequential calls (target p99 < 25 ms on
 *    PostgreSQL; Unleash toggles a flag at p50 6 ms / p99 14 ms on this kind of machine);
 *  - rollbackAll over 1,000 slices in one call (target < 1 s).
 * Prints figures; asserts nothing (machines are shared and noisy).
 */
import { type BenchServer, graphql, percentile, startServer } from './bench-server.js';

const SET_ROLLOUT_RUNS = Number(process.env.BENCH_RUNS ?? 2000);
const WARMUP = 200;
const ROLLBACK_ALL_SLICES = 1000;
const ROLLBACK_ALL_ROUNDS = 3;
const UNLEASH_TOGGLE = { p50: 6, p99: 14 };

interface Figures {
  engine: string;
  setRollout: { p50: number; p99: number; max: number; mean: number; runs: number };
  rollbackAll: number[];
}

async function setRolloutLatency(server: BenchServer): Promise<Figures['setRollout']> {
  await graphql(server, 'mutation { createSlice(key: "bench.set-rollout") { key } }');
  const mutation = 'mutation($p: Float!) { setRollout(key: "bench.set-rollout", percent: $p, reason: "bench") { version } }';
  for (let i = 0; i < WARMUP; i++) await graphql(server, mutation, { p: i % 100 });
  const samples: number[] = [];
  for (let i = 0; i < SET_ROLLOUT_RUNS; i++) {
    const start = process.hrtime.bigint();
    await graphql(server, mutation, { p: (i % 10000) / 100 });
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
    const result = await graphql<{ rollbackAll: { count: number } }>(
      server,
      'mutation($tag: String!) { rollbackAll(tag: $tag, reason: "bench") { count } }',
      { tag },
    );
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
        'p99 vs Unleash toggle p99 (14 ms)': `${(r.setRollout.p99 / UNLEASH_TOGGLE.p99).toFixed(2)}x`,
        'target (PostgreSQL): p99 < 25 ms': r.engine === 'postgres' ? (r.setRollout.p99 < 25 ? 'met' : 'MISSED') : 'n/a',
      },
    ]),
  ),
);
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
