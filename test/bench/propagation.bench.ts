/**
 * npm run bench:propagation
 *
 * How long an incident responder's rollback takes to reach the decisions of 1,000 SDK clients
 * streaming from the service: from sending the `rollback` mutation over HTTP until each client's
 * `decide(slice, its subject)` returns LEGACY for a subject that was NEW (slice at 100 %).
 * The clients are real SDK clients (createClient, streaming), in BENCH_WORKERS worker processes;
 * each notices the flip through onChange and reports its wall-clock time over IPC.
 * Scenarios: one instance on the embedded engine, one on PostgreSQL, and two instances over one
 * PostgreSQL database (half the clients on each; the rollback goes to instance A). Each round rolls
 * back, then resumes and waits until every client decides NEW again.
 * Targets: p99 < 100 ms on one instance, < 250 ms across two. Unleash SDKs poll (15 s by default,
 * 1 s at the most aggressive): a change lands after half an interval on average, a whole one at worst.
 * Two configurations: the bench slice alone ("small": the snapshot is a few hundred bytes) and the
 * bench slice added to a realistic one (200 slices, 20 segments, a 1,000-id list, ~55 KB): the
 * rollback travels as a delta of one slice (PROTOCOL.md) and the service reads only that slice, but
 * every client holds, and the service diffs, the whole configuration. A real fleet has one client per host; here 1,000 share a core, so the
 * last flips wait for the clients before them. The "first client" column (the earliest flip) is the
 * closest to what a single host sees; raw streams opened before and after the clients split the
 * rest into the service's part and the fan-out.
 * Prints figures; asserts nothing.
 *
 * BENCH_CLIENTS=1000 BENCH_WORKERS=1 BENCH_ROUNDS=3 BENCH_WARMUP=1 BENCH_GAP_MS=11000 BENCH_CONFIGS=small,realistic
 * BENCH_SCENARIOS=embedded,postgres,two-instances BENCH_CPU_PROF=dir
 */
import { applyDelta, compileSnapshot, diffSnapshots, type SnapshotDefinition } from '@switchyard/client-sdk/core';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { type BenchServer, graphql, percentile, startServer } from './bench-server.js';
import { createSdkToken, fetchSnapshot, fmt, seedRealisticConfiguration, StreamProbe } from './bench-config.js';
import { IpcWorker } from './ipc-worker.js';
import type { FromWorker, ToWorker } from './propagation-worker.js';

const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 1000);
/**
 * One worker by default: on the 2-core machine this puts the service on one core and "the fleet" on
 * the other, the split closest to production, where the clients run on other hosts. With 4 workers
 * the clients compete with the service for both cores and the figures measure that contention too
 * (BENCH_WORKERS=4 to see it).
 */
const WORKERS = Number(process.env.BENCH_WORKERS ?? 1);
/**
 * Rounds run first and reported apart ("cold"): the first change a process applies runs the SDK's
 * code before V8 has compiled it, 1,000 times in a row in one worker. A real host applies each change
 * once, alone, where the cold path costs about a millisecond.
 */
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONFIGS = (process.env.BENCH_CONFIGS ?? 'small,realistic').split(',') as ('small' | 'realistic')[];
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'embedded,postgres,two-instances').split(',') as Scenario[];
const SLICE = 'bench.propagation';
/** Every bench client's subject (`subject-<n>`, propagation-worker.ts): rolled back as a segment (docs/segment-rollback.md). */
const SEGMENT = 'bench.subjects';
const OBSERVE_TIMEOUT_MS = 15_000;
/**
 * Pause before each measured change. SDKs acknowledge a new revision with a usage report at a random
 * point of the next 5 s, and the service writes reports to the database every 5 s
 * (SWITCHYARD_TRAFFIC_FLUSH_MS, docs/traffic.md): a change is measured once the fleet and the service
 * are quiet again, as an incident's rollback would find them, not during the previous change's
 * reports and their flush.
 */
const GAP_MS = Number(process.env.BENCH_GAP_MS ?? 11_000);
/** BENCH_CPU_PROF=dir: the service(s) and the workers run under --cpu-prof (profiles written on exit). */
const PROFILE_DIR = process.env.BENCH_CPU_PROF;
const TARGET_P99 = { one: 100, two: 250 };

type Scenario = 'embedded' | 'postgres' | 'two-instances';
const wallNow = () => performance.timeOrigin + performance.now();

type Worker = IpcWorker<ToWorker, FromWorker>;

interface RoundFigures {
  rollbackDelays: number[];
  resumeDelays: number[];
  /** rollbackSegment of a segment holding every client's subject: from the send to each client's LEGACY. */
  segmentDelays: number[];
  missing: number;
  mutationMs: number;
  /** Time the worker processes spent in GC between arming and the last flip (summed over workers). */
  gcMs: number;
  /** When the new revision's event reached the first raw stream of each instance, then the last (ms after the send). */
  eventMs: number[];
}

interface ScenarioFigures {
  scenario: Scenario;
  config: 'small' | 'realistic';
  snapshotBytes: number;
  applyMs: { delta: number; full: number };
  connectMs: number;
  ready: { clients: number; onNew: number; streaming: number; heapMiB: number };
  rounds: RoundFigures[];
  /** The warm-up rounds (BENCH_WARMUP), not in the main figures. */
  coldRounds: RoundFigures[];
}

async function setUp(config: 'small' | 'realistic', server: BenchServer): Promise<{ token: string; bytes: number; applyMs: { delta: number; full: number } }> {
  if (config === 'realistic') await seedRealisticConfiguration(server);
  await graphql(server, 'mutation($key: String!) { createSlice(key: $key, percent: 100) { key } }', { key: SLICE });
  await graphql(server, 'mutation($key: String!) { createSegment(key: $key, constraints: [{ attribute: "userId", operator: STR_STARTS_WITH, values: ["subject-"] }]) { key } }', {
    key: SEGMENT,
  });
  const token = await createSdkToken(server);
  const snapshot = await fetchSnapshot(server, token);
  return { token, bytes: snapshot.bytes, applyMs: applyCost(snapshot.body) };
}

/**
 * What every SDK client spends at least per change, measured here in one process (median of 50
 * after warm-up; the client also decodes and splits the stream and diffs for onChange, not counted):
 * `delta`, what a streaming SDK does with the rollback's delta event (JSON.parse, applyDelta:
 * the changed slice compiled, the others reused); `full`, what a whole snapshot costs (JSON.parse,
 * compileSnapshot), as a poll or a reconnect after a missed event brings it.
 */
function applyCost(body: Buffer): { delta: number; full: number } {
  const text = body.toString('utf8');
  const base = JSON.parse(text) as SnapshotDefinition;
  const rolledBack = { ...base, revision: base.revision + 1, slices: base.slices.map((s) => (s.key === SLICE ? { ...s, state: 'ROLLED_BACK' as const } : s)) };
  const deltaText = JSON.stringify(diffSnapshots(base, rolledBack));
  const compiledBase = compileSnapshot(base);
  const median = (run: () => void) => {
    const once = () => {
      const start = performance.now();
      run();
      return performance.now() - start;
    };
    for (let i = 0; i < 20; i++) once();
    const samples = Array.from({ length: 50 }, once).sort((a, b) => a - b);
    return samples[25]!;
  };
  return {
    delta: median(() => applyDelta(compiledBase, JSON.parse(deltaText))),
    full: median(() => compileSnapshot(JSON.parse(text) as SnapshotDefinition)),
  };
}

/** Arms every worker, runs `mutate`, returns each client's delay from the send to its flip. */
async function measureFlip(
  workers: Worker[],
  probes: StreamProbe[],
  current: () => Promise<number>,
  round: number,
  expect: 'NEW' | 'LEGACY',
  mutate: () => Promise<void>,
): Promise<{ delays: number[]; missing: number; mutationMs: number; eventMs: number[]; gcMs: number }> {
  const revision = await current();
  const armed = workers.map((w) => w.next('armed', 5000));
  for (const w of workers) w.send({ type: 'arm', round, expect, timeoutMs: OBSERVE_TIMEOUT_MS });
  await Promise.all(armed);
  const observed = workers.map((w) => w.next('observed', OBSERVE_TIMEOUT_MS + 5000));
  const events = probes.map((p) => p.waitFor(revision + 1));
  const sentAt = wallNow();
  await mutate();
  const mutationMs = wallNow() - sentAt;
  const reports = await Promise.all(observed);
  return {
    delays: reports.flatMap((r) => r.times.map((t) => t - sentAt)),
    missing: reports.reduce((n, r) => n + r.missing, 0),
    gcMs: reports.reduce((n, r) => n + r.gcMs, 0),
    mutationMs,
    eventMs: (await Promise.all(events)).map((at) => at - sentAt),
  };
}

async function runScenario(scenario: Scenario, config: 'small' | 'realistic'): Promise<ScenarioFigures> {
  const servers: BenchServer[] = [];
  const workers: Worker[] = [];
  const firstProbes: StreamProbe[] = [];
  const lastProbes: StreamProbe[] = [];
  try {
    const prof = PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
    const a = await startServer(scenario === 'embedded' ? 'embedded' : 'postgres', undefined, { nodeArgs: prof });
    servers.push(a);
    if (scenario === 'two-instances') servers.push(await startServer('postgres', undefined, { sameDatabaseAs: a, nodeArgs: prof }));
    const { token, bytes, applyMs } = await setUp(config, a);
    const current = async () => (await fetchSnapshot(servers[0]!, token)).revision;
    // Raw streams opened before the clients (the first the service writes to) and after them (the
    // last): when the event reaches them splits the delay into the service's part and the fan-out.
    const startRevision = await current();
    for (const server of servers) firstProbes.push(await StreamProbe.open(server, token, startRevision));
    process.stderr.write(`[${scenario}/${config}] snapshot ${bytes} bytes; starting ${CLIENTS} clients in ${WORKERS} workers\n`);

    const perWorker = Math.ceil(CLIENTS / WORKERS);
    const begin = performance.now();
    for (let i = 0; i < WORKERS; i++) {
      const worker: Worker = new IpcWorker('propagation-worker.js', prof);
      workers.push(worker);
      const count = Math.min(perWorker, CLIENTS - i * perWorker);
      // Two instances: every worker streams half of its clients from A, half from B.
      worker.send({ type: 'start', urls: servers.map((server) => server.baseUrl), token, count, offset: i * perWorker, slice: SLICE });
    }
    const readies = await Promise.all(workers.map((w) => w.next('ready', 120_000)));
    const connectMs = performance.now() - begin;
    const ready = {
      clients: readies.reduce((n, r) => n + r.clients, 0),
      onNew: readies.reduce((n, r) => n + r.onNew, 0),
      streaming: readies.reduce((n, r) => n + r.streaming, 0),
      heapMiB: readies.reduce((n, r) => n + r.heapMiB, 0),
    };
    process.stderr.write(`[${scenario}/${config}] ${ready.clients} clients ready in ${connectMs.toFixed(0)} ms (${ready.streaming} streaming, ${ready.onNew} on NEW)\n`);

    for (const server of servers) lastProbes.push(await StreamProbe.open(server, token, startRevision));
    const probes = [...firstProbes, ...lastProbes];

    const rounds: RoundFigures[] = [];
    const coldRounds: RoundFigures[] = [];
    for (let round = 0; round < WARMUP + ROUNDS; round++) {
      await new Promise((r) => setTimeout(r, GAP_MS));
      const rollback = await measureFlip(workers, probes, current, round, 'LEGACY', async () => {
        await graphql(servers[0]!, 'mutation($key: String!, $r: String!) { rollback(key: $key, reason: $r) { state } }', { key: SLICE, r: `bench round ${round}` });
      });
      await new Promise((r) => setTimeout(r, GAP_MS));
      const resume = await measureFlip(workers, probes, current, round, 'NEW', async () => {
        await graphql(servers[0]!, 'mutation($key: String!, $r: String!) { resume(key: $key, reason: $r) { state } }', { key: SLICE, r: `bench round ${round}` });
      });
      // The same path for one segment of the slice: rollbackSegment, then resumeSegment.
      await new Promise((r) => setTimeout(r, GAP_MS));
      const segment = await measureFlip(workers, probes, current, round, 'LEGACY', async () => {
        await graphql(servers[0]!, 'mutation($key: String!, $s: String!, $r: String!) { rollbackSegment(key: $key, segment: $s, reason: $r) { state } }', {
          key: SLICE,
          s: SEGMENT,
          r: `bench round ${round}`,
        });
      });
      await new Promise((r) => setTimeout(r, GAP_MS));
      const segmentResume = await measureFlip(workers, probes, current, round, 'NEW', async () => {
        await graphql(servers[0]!, 'mutation($key: String!, $s: String!, $r: String!) { resumeSegment(key: $key, segment: $s, reason: $r) { state } }', {
          key: SLICE,
          s: SEGMENT,
          r: `bench round ${round}`,
        });
      });
      (round < WARMUP ? coldRounds : rounds).push({
        rollbackDelays: rollback.delays,
        resumeDelays: resume.delays,
        segmentDelays: segment.delays,
        missing: rollback.missing + resume.missing + segment.missing + segmentResume.missing,
        mutationMs: rollback.mutationMs,
        gcMs: rollback.gcMs,
        eventMs: rollback.eventMs,
      });
      const sorted = [...rollback.delays].sort((x, y) => x - y);
      process.stderr.write(
        `[${scenario}/${config}] ${round < WARMUP ? 'cold round' : `round ${round - WARMUP + 1}`}: rollback p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, ` +
          `max ${sorted[sorted.length - 1]!.toFixed(1)} ms, missing ${rollback.missing}; mutation answered ${rollback.mutationMs.toFixed(1)} ms, ` +
          `event on the first / last stream ${rollback.eventMs.map((x) => x.toFixed(1)).join(' / ')} ms; resume missing ${resume.missing}; ` +
          `segment rollback p50 ${percentile(
            [...segment.delays].sort((x, y) => x - y),
            50,
          ).toFixed(1)} ms, missing ${segment.missing}\n`,
      );
    }
    return { scenario, config, snapshotBytes: bytes, applyMs, connectMs, ready, rounds, coldRounds };
  } finally {
    for (const probe of [...firstProbes, ...lastProbes]) probe.close();
    await Promise.all(workers.map((w) => w.close({ type: 'close' })));
    // The second instance first: the first one drops the database it created.
    for (const server of servers.reverse()) await server.stop();
  }
}

const results: ScenarioFigures[] = [];
for (const config of CONFIGS) for (const scenario of SCENARIOS) results.push(await runScenario(scenario, config));

const stats = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted.length === 0
    ? { min: NaN, p50: NaN, p99: NaN, max: NaN }
    : { min: sorted[0]!, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted[sorted.length - 1]! };
};

console.log(
  `\nRollback propagation: from sending the rollback mutation (HTTP, GraphQL) to each SDK client's decide() returning LEGACY. ` +
    `${CLIENTS} streaming clients in ${WORKERS} worker process(es), ${ROUNDS} measured rounds each after ${WARMUP} cold one(s) (rollback, then resume and wait for NEW). ` +
    `${cpus().length} shared cores: the service(s), PostgreSQL and the ${WORKERS} workers all run on them.`,
);
const label: Record<Scenario, string> = {
  embedded: 'one instance, embedded engine',
  postgres: 'one instance, PostgreSQL',
  'two-instances': 'two instances over one PostgreSQL (rollback sent to A)',
};
const rowName = (r: ScenarioFigures) => `${label[r.scenario]}, ${r.config} (${fmt.kib(r.snapshotBytes)})`;
console.table(
  Object.fromEntries(
    results.map((r) => {
      const all = stats(r.rounds.flatMap((x) => x.rollbackDelays));
      const target = r.scenario === 'two-instances' ? TARGET_P99.two : TARGET_P99.one;
      return [
        rowName(r),
        {
          'flips seen': `${r.rounds.reduce((n, x) => n + x.rollbackDelays.length, 0)} of ${r.ready.clients * r.rounds.length}`,
          'first client': fmt.ms(all.min),
          p50: fmt.ms(all.p50),
          p99: fmt.ms(all.p99),
          max: fmt.ms(all.max),
          'p99 per round': r.rounds.map((x) => stats(x.rollbackDelays).p99.toFixed(0)).join(' / '),
          'target p99': `< ${target} ms: ${all.p99 < target ? 'met' : 'MISSED'}`,
          'cold round p50 / p99':
            r.coldRounds.length === 0
              ? '-'
              : (() => {
                  const cold = stats(r.coldRounds.flatMap((x) => x.rollbackDelays));
                  return `${fmt.ms(cold.p50)} / ${fmt.ms(cold.p99)}`;
                })(),
        },
      ];
    }),
  ),
);
console.log(
  "\nWhere the time goes, per round (ms after sending the rollback): the mutation's answer; the event (delta) on a raw stream opened " +
    'before the clients (the first the service writes to) and after them (the last), per instance (A+B); what each client spends at least per change (the delta) and per whole snapshot, measured in one process.',
);
console.table(
  Object.fromEntries(
    results.map((r) => {
      const perRound = (f: (x: RoundFigures) => string) => r.rounds.map(f).join(' / ');
      const half = (x: RoundFigures, last: boolean) => (last ? x.eventMs.slice(x.eventMs.length / 2) : x.eventMs.slice(0, x.eventMs.length / 2)).map((e) => e.toFixed(0)).join('+');
      return [
        rowName(r),
        {
          'mutation answered': perRound((x) => x.mutationMs.toFixed(0)),
          'event at first stream': perRound((x) => half(x, false)),
          'event at last stream': perRound((x) => half(x, true)),
          'clients p50': perRound((x) => stats(x.rollbackDelays).p50.toFixed(0)),
          'apply per client: delta / whole snapshot': `${fmt.ms(r.applyMs.delta)} / ${fmt.ms(r.applyMs.full)}`,
          'resume p99': fmt.ms(stats(r.rounds.flatMap((x) => x.resumeDelays)).p99),
          'segment rollback p50 / p99': (() => {
            const s = stats(r.rounds.flatMap((x) => x.segmentDelays));
            return `${fmt.ms(s.p50)} / ${fmt.ms(s.p99)}`;
          })(),
          'clients up in': fmt.ms(r.connectMs),
          'workers: heap / GC per round': `${fmt.mib(r.ready.heapMiB)} / ${perRound((x) => x.gcMs.toFixed(0))} ms`,
        },
      ];
    }),
  ),
);
console.log('\nThe same kill switch with Unleash (SDKs poll; the change lands at a uniformly random point of the interval):');
console.table({
  'Unleash, default 15 s polling': { 'average delay': '7,500 ms', 'worst delay': '15,000 ms' },
  'Unleash, 1 s polling (most aggressive)': { 'average delay': '500 ms', 'worst delay': '1,000 ms' },
  ...Object.fromEntries(
    results.map((r) => {
      const all = r.rounds.flatMap((x) => x.rollbackDelays);
      const s = stats(all);
      const mean = all.reduce((a, b) => a + b, 0) / Math.max(1, all.length);
      return [`Switchyard, ${label[r.scenario]}, ${r.config}`, { 'average delay': fmt.ms(mean), 'worst delay': fmt.ms(s.max) }];
    }),
  ),
});
