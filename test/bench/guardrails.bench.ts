/**
 * npm run bench:guardrails
 *
 * Issue 14's benchmark: real SDK clients (createClient, in worker processes, against the real
 * service) route 2,000 calls a second in total through `route` on a slice that a running plan
 * holds at 5 %, with a failure-rate gate (roll back). Both paths fail 0.5 % of calls; at a random
 * moment (after BENCH_HEALTHY_MIN_S to BENCH_HEALTHY_MAX_S of healthy traffic) NEW's failure rate
 * rises to 5 %. Measured, per trial: from that moment until EVERY client decides LEGACY (the
 * plan's rollback reached each of them). Real time: the SDKs report every 2 s (watched slices, the
 * SDK's default), the service flushes outcomes every second (its default) and the runner looks at
 * the plan when they are written. Target: p95 under 10 s. Prints figures; asserts nothing.
 *
 * BENCH_TRIALS=20 BENCH_CLIENTS=8 BENCH_WORKERS=2 BENCH_CALLS=2000 BENCH_ENGINE=embedded|postgres
 * BENCH_HEALTHY_MIN_S=5 BENCH_HEALTHY_MAX_S=20
 */
import { cpus } from 'node:os';
import { createSdkToken } from './bench-config.js';
import { graphql, percentile, startServer } from './bench-server.js';
import type { FromGuardrailsWorker, ToGuardrailsWorker } from './guardrails-worker.js';
import { IpcWorker } from './ipc-worker.js';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 20);
const CLIENTS = Number(process.env.BENCH_CLIENTS ?? 8);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 2);
const CALLS_PER_SECOND = Number(process.env.BENCH_CALLS ?? 2000);
const ENGINE = (process.env.BENCH_ENGINE ?? 'embedded') as 'postgres' | 'embedded';
const HEALTHY_MIN_S = Number(process.env.BENCH_HEALTHY_MIN_S ?? 5);
const HEALTHY_MAX_S = Number(process.env.BENCH_HEALTHY_MAX_S ?? 20);
const BASE_RATE = 0.005;
const FAILING_RATE = 0.05;
const APPS = 2;
const TRIAL_TIMEOUT_MS = 60_000;

type Worker = IpcWorker<ToGuardrailsWorker, FromGuardrailsWorker>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : 'not within 60 s');

const CREATE_PLAN = `mutation($sliceKey: String!, $steps: [PlanStepInput!]!, $gates: PlanGatesInput) { createPlan(sliceKey: $sliceKey, steps: $steps, gates: $gates) { id } }`;
const START_PLAN = `mutation($sliceKey: String!) { startPlan(sliceKey: $sliceKey, reason: "bench") { phase } }`;
const PLAN = `query($key: String!) { slice(key: $key) { state plan { phase } } }`;

async function main(): Promise<void> {
  const server = await startServer(ENGINE);
  const workers: Worker[] = [];
  try {
    const token = await createSdkToken(server);
    const perWorker = Math.ceil(CLIENTS / WORKERS);
    const started: Promise<Extract<FromGuardrailsWorker, { type: 'started' }>>[] = [];
    for (let w = 0; w < WORKERS; w++) {
      const count = Math.min(perWorker, CLIENTS - w * perWorker);
      if (count <= 0) break;
      const worker: Worker = new IpcWorker('guardrails-worker.js');
      workers.push(worker);
      started.push(worker.next('started', 120_000));
      worker.send({ type: 'start', url: server.baseUrl, token, count, firstInstance: w * perWorker, apps: APPS });
    }
    const running = (await Promise.all(started)).reduce((sum, r) => sum + r.ok, 0);
    process.stderr.write(`[guardrails] ${ENGINE}: ${running} SDK clients in ${workers.length} workers, ${CALLS_PER_SECOND} calls/s in total\n`);

    const delays: number[] = [];
    const misses: string[] = [];
    for (let trial = 0; trial < TRIALS; trial++) {
      const key = `bench.guardrails.t${String(trial).padStart(3, '0')}.${Date.now().toString(36)}`;
      await graphql(server, 'mutation($key: String!) { createSlice(key: $key, percent: 0) { key } }', { key });
      await graphql(server, CREATE_PLAN, {
        sliceKey: key,
        steps: [
          { percent: 5, minDuration: '1d' },
          { percent: 100, minDuration: '1d' },
        ],
        gates: { failureRate: { ceilingPercent: 10, onFail: 'ROLLBACK' } },
      });
      await graphql(server, START_PLAN, { sliceKey: key });
      const ready = workers.map((w) => w.next('ready', 30_000));
      for (const w of workers) w.send({ type: 'trial', slice: key, callsPerSecond: CALLS_PER_SECOND / workers.length, baseRate: BASE_RATE });
      await Promise.all(ready);
      const healthyMs = (HEALTHY_MIN_S + Math.random() * (HEALTHY_MAX_S - HEALTHY_MIN_S)) * 1000;
      await sleep(healthyMs);
      const before = await graphql<{ slice: { state: string; plan: { phase: string } } }>(server, PLAN, { key });
      if (before.slice.state !== 'ACTIVE' || before.slice.plan.phase !== 'RUNNING') misses.push(`trial ${trial}: rolled back before the regression (${before.slice.plan.phase})`);

      const failing = workers.map((w) => w.next('failing', 10_000));
      const legacy = workers.map((w) => w.next('legacy', TRIAL_TIMEOUT_MS));
      for (const w of workers) w.send({ type: 'fail', rate: FAILING_RATE });
      // The regression starts when the first worker's NEW starts failing; done when the last client decides LEGACY.
      const from = Math.min(...(await Promise.all(failing)).map((f) => f.at));
      try {
        const until = Math.max(...(await Promise.all(legacy)).map((l) => l.at));
        delays.push(until - from);
        process.stderr.write(
          `[guardrails] trial ${trial + 1}/${TRIALS}: healthy ${(healthyMs / 1000).toFixed(1)} s, every client on LEGACY ${secs(until - from)} after NEW began failing\n`,
        );
      } catch (error) {
        delays.push(Number.POSITIVE_INFINITY);
        misses.push(`trial ${trial}: ${String(error)}`);
      }
      const stopped = workers.map((w) => w.next('stopped', 10_000));
      for (const w of workers) w.send({ type: 'stop' });
      await Promise.all(stopped);
    }
    delays.sort((a, b) => a - b);
    const p95 = percentile(delays, 95);
    console.log(
      `\nGuardrails, ${ENGINE}: ${running} real SDK clients (${workers.length} worker processes, ${APPS} apps) routing ${CALLS_PER_SECOND} calls/s in total on a slice at 5 % under a running plan` +
        ` (failure-rate gate, roll back); both paths fail ${BASE_RATE * 100} % of calls, then NEW ${FAILING_RATE * 100} % after ${HEALTHY_MIN_S}-${HEALTHY_MAX_S} s of healthy traffic.` +
        ` ${TRIALS} trials; real time. Machine: ${cpus().length} cores, shared with the workers (and, when measured, with other work).`,
    );
    console.table({
      'regression to every client on LEGACY, median': { figure: secs(percentile(delays, 50)), target: '', met: '' },
      'regression to every client on LEGACY, p95': { figure: secs(p95), target: '< 10 s', met: p95 < 10_000 ? 'met' : 'MISSED' },
      'regression to every client on LEGACY, max': { figure: secs(delays[delays.length - 1]!), target: '', met: '' },
    });
    console.log('Peers, as published (cadence of the evidence a regression is judged on, and what it does):');
    console.log('  Unleash impact metrics: collected every 60 s, plus ingestion delay; a safeguard only pauses the rollout (no rollback).');
    console.log('  LaunchDarkly migration metrics: aggregated hourly.');
    console.log('  Statsig rollout alerts: evaluated daily.');
    if (misses.length > 0) console.log(`Not measured as intended: ${misses.join('; ')}`);
  } finally {
    await Promise.all(workers.map((worker) => worker.close({ type: 'close' })));
    await server.stop();
  }
}

await main();
