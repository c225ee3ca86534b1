/**
 * npm run bench:outcomes
 *
 * Issue 13's load: 1,000 real SDK instances (createClient, in worker processes) each recording
 * outcomes on 50 watched slices, both paths, and reporting them every 2 s (the watched interval).
 * Measures (1) the service process's CPU share of one core while it ingests that, over a steady
 * window, and (2) the delay from a host starting to fail on NEW to the failures being visible in
 * GraphQL (`Slice.outcomes`), a few times over. Targets: under 10 % of one core; visible within 5 s.
 * Then (3) the floor: the same clients restarted against a bare node:http server that speaks the
 * SDK protocol and only parses each report (bare-receiver.ts), its CPU per report measured the same
 * way, so the service's own cost per report reads as what it spends above the floor.
 * Prints figures; asserts nothing.
 *
 * BENCH_INSTANCES=1000 BENCH_SLICES=50 BENCH_WORKERS=4 BENCH_ENGINE=postgres BENCH_WINDOW_S=30 BENCH_PROBES=5
 * BENCH_REPORT_STREAM=0: no report stream offered (service and floor): a POST per report.
 * BENCH_FLOOR=0: skip the floor. BENCH_PLANS=1: every slice under a RUNNING plan (per-instance figures kept). BENCH_DECISIONS=1: each outcome follows a decision (as `route` makes), so reports carry decision counts and instances follow their slices. BENCH_CPU_PROF=dir: run the service under --cpu-prof, its profile written to dir when it stops (the floor's to dir/floor).
 */
import { cpus } from 'node:os';
import { cpuMs, createSdkToken, fmt, rssMiB } from './bench-config.js';
import { type BenchServer, graphql, percentile, startServer } from './bench-server.js';
import { IpcWorker } from './ipc-worker.js';
import type { FromBareReceiver, ToBareReceiver } from './bare-receiver.js';
import type { FromOutcomesWorker, ToOutcomesWorker } from './outcomes-worker.js';

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1000);
const SLICES = Number(process.env.BENCH_SLICES ?? 50);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);
const ENGINE = (process.env.BENCH_ENGINE ?? 'postgres') as 'postgres' | 'embedded';
const WINDOW_S = Number(process.env.BENCH_WINDOW_S ?? 30);
const PROBES = Number(process.env.BENCH_PROBES ?? 5);
/** 0: skip the floor (the same clients against a bare node:http server, after the service). */
const FLOOR = process.env.BENCH_FLOOR !== '0';
/** 1: each slice under a RUNNING plan (first step 5 % for a day), as a ramp would have them: per-instance figures kept, the runner looking after every flush. */
const PLANS = process.env.BENCH_PLANS === '1';
/** 1: each outcome follows a decision on its slice, as a host calling `route` makes: reports carry decision counts, instances follow their slices. */
const DECISIONS = process.env.BENCH_DECISIONS === '1';
/** 0: the service (SWITCHYARD_REPORT_STREAM=false) and the floor offer no report stream: every report is a POST, as before it existed. */
const REPORT_STREAM = process.env.BENCH_REPORT_STREAM !== '0';
const WATCHED_INTERVAL_MS = 2_000;
/** Outcomes each instance records per second, over its slices (a modest host: 50 calls a second). */
const CALLS_PER_SECOND = Number(process.env.BENCH_CALLS ?? 50);
const APPS = 20;
const VISIBLE_TIMEOUT_MS = 60_000;

type Worker = IpcWorker<ToOutcomesWorker, FromOutcomesWorker>;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const OUTCOME_FAILURES = `query($key: String!) { slice(key: $key) { outcomes(window: LAST_5_MINUTES) { new { calls failures } } } }`;

/** Reports the service has taken since start (its Prometheus counter), and how many of them came by POST (the rest on report streams). */
async function acceptedReports(server: BenchServer): Promise<{ reports: number; posted: number }> {
  // Asked again on a failure: a kept-alive connection the service closed while idle fails once,
  // and a machine loaded by other work can time a connection out.
  let text: string;
  for (let attempt = 1; ; attempt++) {
    try {
      text = await (await fetch(`${server.baseUrl}/metrics`)).text();
      break;
    } catch {
      // A service too busy to take a new connection: no count (NaN), the CPU share still stands.
      if (attempt === 5) return { reports: Number.NaN, posted: Number.NaN };
      await sleep(500);
    }
  }
  const line = /^switchyard_traffic_reports_total\{outcome="accepted"\} (\d+)/m.exec(text);
  const posted = /^switchyard_http_requests_total\{method="POST",route="\/sdk\/v1\/metrics",status="202"\} (\d+)/m.exec(text);
  return { reports: line === null ? Number.NaN : Number(line[1]), posted: posted === null ? 0 : Number(posted[1]) };
}

/** Reads that the service refused (e.g. SERVICE_UNAVAILABLE while its database lagged): counted and printed, then asked again. */
const refusedReads: string[] = [];

async function newFailures(server: BenchServer, key: string): Promise<number> {
  for (;;) {
    try {
      const data = await graphql<{ slice: { outcomes: { new: { failures: number } } } }>(server, OUTCOME_FAILURES, { key });
      return data.slice.outcomes.new.failures;
    } catch (error) {
      refusedReads.push(String(error).slice(0, 300));
      await sleep(100);
    }
  }
}

interface Window {
  readonly cpuShare: number;
  readonly reportsPerSecond: number;
  readonly cpuPerReportUs: number;
  /** The share of the window's reports sent by POST (the rest on report streams). */
  readonly postedShare: number;
}

/** Starts INSTANCES SDK clients in WORKERS worker processes against `url`, then lets them settle 10 s. */
async function startWorkers(workers: Worker[], url: string, token: string, slices: readonly string[]): Promise<number> {
  const perWorker = Math.ceil(INSTANCES / WORKERS);
  const started: Promise<Extract<FromOutcomesWorker, { type: 'started' }>>[] = [];
  for (let w = 0; w < WORKERS; w++) {
    const count = Math.min(perWorker, INSTANCES - w * perWorker);
    if (count <= 0) break;
    const worker: Worker = new IpcWorker('outcomes-worker.js');
    workers.push(worker);
    started.push(worker.next('started', 300_000));
    worker.send({
      type: 'start',
      url,
      token,
      count,
      firstInstance: w * perWorker,
      apps: APPS,
      slices,
      watchedIntervalMs: WATCHED_INTERVAL_MS,
      callsPerSecond: CALLS_PER_SECOND,
      decisions: DECISIONS,
    });
  }
  const ready = await Promise.all(started);
  const running = ready.reduce((sum, r) => sum + r.ok, 0);
  process.stderr.write(`[outcomes] ${running} instances running against ${url} (slowest worker ${Math.max(...ready.map((r) => r.ms))} ms); settling 10 s\n`);
  await sleep(10_000);
  return running;
}

/**
 * CPU of process `pid` over WINDOW_S seconds, and the reports it took meanwhile (`reports()`):
 * on a loaded machine the workers may send fewer than 500 a second, and the CPU per report is
 * what compares across runs.
 */
async function measureWindow(pid: number, reports: () => Promise<{ reports: number; posted: number }>): Promise<Window> {
  const reportsBefore = await reports();
  const cpuBefore = cpuMs(pid);
  const wallBefore = Date.now();
  await sleep(WINDOW_S * 1000);
  const cpuUsed = cpuMs(pid) - cpuBefore;
  const wall = Date.now() - wallBefore;
  const after = await reports();
  const taken = after.reports - reportsBefore.reports;
  return {
    cpuShare: cpuUsed / wall,
    reportsPerSecond: (taken * 1000) / wall,
    cpuPerReportUs: (cpuUsed * 1000) / taken,
    postedShare: (after.posted - reportsBefore.posted) / taken,
  };
}

async function main(): Promise<void> {
  const profDir = process.env.BENCH_CPU_PROF;
  const server = await startServer(ENGINE, undefined, {
    ...(profDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] } : {}),
    env: { SWITCHYARD_REPORT_STREAM: String(REPORT_STREAM) },
  });
  const workers: Worker[] = [];
  try {
    const slices = Array.from({ length: SLICES }, (_, i) => `bench.outcomes.s${String(i).padStart(3, '0')}`);
    for (const key of slices) {
      await graphql(server, 'mutation($key: String!) { createSlice(key: $key, percent: 50) { key } }', { key });
      await graphql(server, 'mutation($key: String!) { setObservation(key: $key, watched: true, reason: "bench") { key watched } }', { key });
      if (PLANS) {
        const steps = [
          { percent: 5, minDuration: '1d', minNewCalls: 1_000 },
          { percent: 100, minDuration: '1d', minNewCalls: 1_000 },
        ];
        await graphql(
          server,
          'mutation($key: String!, $steps: [PlanStepInput!]!) { createPlan(sliceKey: $key, steps: $steps, gates: { failureRate: { ceilingPercent: 5, onFail: ROLLBACK } }) { phase } }',
          { key, steps },
        );
        await graphql(server, 'mutation($key: String!) { startPlan(sliceKey: $key, reason: "bench") { phase } }', { key });
      }
    }
    const token = await createSdkToken(server);
    // The snapshot as the SDKs get it, for the floor below (served by a bare server after this).
    const snapshotRes = await fetch(`${server.baseUrl}/sdk/v1/snapshot`, { headers: { authorization: `Bearer ${token}` } });
    const snapshot = await snapshotRes.text();
    const revision = (JSON.parse(snapshot) as { revision: number }).revision;
    process.stderr.write(`[outcomes] ${ENGINE}: ${SLICES} watched slices; starting ${INSTANCES} SDK instances in ${WORKERS} workers\n`);

    const running = await startWorkers(workers, server.baseUrl, token, slices);
    const steady = await measureWindow(server.pid, () => acceptedReports(server));
    const { cpuShare, reportsPerSecond, cpuPerReportUs, postedShare } = steady;
    const expectedPerSecond = (INSTANCES * 1000) / WATCHED_INTERVAL_MS;
    const rss = rssMiB(server.pid);
    process.stderr.write(
      `[outcomes] service CPU ${(cpuShare * 100).toFixed(1)} % of one core over ${WINDOW_S} s; ${reportsPerSecond.toFixed(0)} reports/s, ${cpuPerReportUs.toFixed(0)} µs of CPU per report\n`,
    );

    // Visibility: a host starts failing on NEW for one slice; how long until GraphQL shows it?
    const delays: number[] = [];
    for (let probe = 0; probe < PROBES; probe++) {
      const slice = slices[probe % slices.length]!;
      const before = await newFailures(server, slice);
      const worker = workers[probe % workers.length]!;
      const failing = worker.next('failing', 10_000);
      worker.send({ type: 'fail', slice });
      const { at } = await failing;
      let seen = -1;
      while (Date.now() - at < VISIBLE_TIMEOUT_MS) {
        if ((await newFailures(server, slice)) > before) {
          seen = Date.now();
          break;
        }
        await sleep(50);
      }
      delays.push(seen === -1 ? Number.POSITIVE_INFINITY : seen - at);
      worker.send({ type: 'fail', slice: '' });
      await sleep(3_000);
    }
    delays.sort((a, b) => a - b);

    // The floor: the same SDK clients, restarted against a bare node:http server (bare-receiver.ts).
    let floor: Window | null = null;
    if (FLOOR) {
      await Promise.all(workers.splice(0).map((worker) => worker.close({ type: 'close' })));
      const bare = new IpcWorker<ToBareReceiver, FromBareReceiver>('bare-receiver.js', profDir ? ['--cpu-prof', `--cpu-prof-dir=${profDir}/floor`] : []);
      try {
        const listening = bare.next('listening', 10_000);
        bare.send({ type: 'start', snapshot, revision, reportStream: REPORT_STREAM });
        const { port, pid } = await listening;
        await startWorkers(workers, `http://127.0.0.1:${port}`, token, slices);
        floor = await measureWindow(pid, async () => {
          const count = bare.next('count', 10_000);
          bare.send({ type: 'count' });
          const { reports, posted } = await count;
          return { reports, posted };
        });
        process.stderr.write(
          `[outcomes] bare node:http floor: CPU ${(floor.cpuShare * 100).toFixed(1)} % of one core; ${floor.reportsPerSecond.toFixed(0)} reports/s, ${floor.cpuPerReportUs.toFixed(0)} µs per report\n`,
        );
      } finally {
        await Promise.all(workers.splice(0).map((worker) => worker.close({ type: 'close' })));
        await bare.close({ type: 'close' });
      }
    }

    console.log(
      `\nOutcomes ingest, ${ENGINE}: ${running} SDK instances (real clients, ${WORKERS} worker processes), ${SLICES} watched slices each${PLANS ? ', each under a RUNNING plan' : ''}${DECISIONS ? ', a decision before each outcome' : ''}, ` +
        `${CALLS_PER_SECOND} outcomes a second per instance, reports every ${WATCHED_INTERVAL_MS / 1000} s ${REPORT_STREAM ? 'on the report stream' : 'by POST (BENCH_REPORT_STREAM=0)'}. Machine: ${cpus().length} cores, shared with the workers.`,
    );
    console.table({
      'service CPU (share of one core)': { figure: `${(cpuShare * 100).toFixed(1)} %`, target: '< 10 %', met: cpuShare < 0.1 ? 'met' : 'MISSED' },
      'reports taken a second': { figure: reportsPerSecond.toFixed(0), target: `${expectedPerSecond} sent`, met: '' },
      'of them by POST (the rest on report streams)': { figure: `${(postedShare * 100).toFixed(1)} %`, target: '', met: '' },
      'service CPU per report': {
        figure: `${cpuPerReportUs.toFixed(0)} µs`,
        target: `< ${((0.1 * 1e6) / expectedPerSecond).toFixed(0)} µs`,
        met: cpuPerReportUs < (0.1 * 1e6) / expectedPerSecond ? 'met' : 'MISSED',
      },
      'failure visible in GraphQL, p50': { figure: fmt.ms(percentile(delays, 50)), target: '< 5 s', met: percentile(delays, 50) < 5000 ? 'met' : 'MISSED' },
      'failure visible in GraphQL, max': { figure: fmt.ms(delays[delays.length - 1]!), target: '< 5 s', met: delays[delays.length - 1]! < 5000 ? 'met' : 'MISSED' },
      ...(floor === null
        ? {}
        : {
            'bare node:http server, same clients (floor)': {
              figure: `${(floor.cpuShare * 100).toFixed(1)} %, ${floor.cpuPerReportUs.toFixed(0)} µs a report, ${(floor.postedShare * 100).toFixed(1)} % by POST`,
              target: '',
              met: '',
            },
            'service CPU per report over the floor': {
              figure: `${(cpuPerReportUs - floor.cpuPerReportUs).toFixed(0)} µs (${(cpuPerReportUs / floor.cpuPerReportUs).toFixed(2)}x the floor)`,
              target: '',
              met: '',
            },
          }),
      'service RSS': { figure: `${rss.toFixed(0)} MiB`, target: '', met: '' },
      'GraphQL reads refused meanwhile': { figure: String(refusedReads.length), target: '0', met: refusedReads.length === 0 ? 'met' : 'MISSED' },
    });
    if (refusedReads.length > 0) console.log(`first refusal: ${refusedReads[0]}`);
  } finally {
    await Promise.all(workers.map((worker) => worker.close({ type: 'close' })));
    await server.stop();
  }
}

await main();
