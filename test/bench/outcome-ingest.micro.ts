/**
 * node dist/test/bench/outcome-ingest.micro.js (after npm run bench:build)
 *
 * The service's own work on one usage report of bench:outcomes' shape (50 watched slices, both
 * paths, a few calls each), in one process, without HTTP or the database: reading the body
 * (json-body.ts), validating it (traffic-report.ts) and adding it to the buffer (traffic-buffer.ts),
 * for the `outcomes` member and for `compactOutcomes`. CPU time per report (process.cpuUsage), the
 * median of several rounds: far less sensitive to a loaded machine than a share of a core.
 *
 * BENCH_SLICES=50 BENCH_CALLS=2 (calls per path per report) BENCH_REPORTS=20000 BENCH_ROUNDS=7
 */
import { compactOf, latencyBucketOf, LATENCY_SCHEME } from '@switchyard/client-sdk/core';
import { parseJsonBody } from '../../src/common/http/json-body.js';
import { bucketStartFor, DEFAULT_BUFFER_LIMITS, type InstanceObservation, TrafficBuffer } from '../../src/traffic/traffic-buffer.js';
import { parseSdkReport } from '../../src/traffic/traffic-report.js';

const SLICES = Number(process.env.BENCH_SLICES ?? 50);
const CALLS = Number(process.env.BENCH_CALLS ?? 2);
const REPORTS = Number(process.env.BENCH_REPORTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const BODIES = 1_000;
const APPS = 20;
const RECEIVED_AT = Date.UTC(2026, 11, 2, 12, 0, 30);

/** Durations around 4 ms (LEGACY) and 3 ms (NEW), as outcomes-worker.ts records them. */
function histogram(path: 'NEW' | 'LEGACY', calls: number): [number, number][] {
  const counts = new Map<number, number>();
  for (let i = 0; i < calls; i++) {
    const bucket = latencyBucketOf((path === 'NEW' ? 3 : 4) * Math.exp((Math.random() - 0.5) * 0.8));
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => a[0] - b[0]);
}

function bodies(compact: boolean): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < BODIES; i++) {
    const stop = new Date(Date.UTC(2026, 11, 2, 12, 0, 0) + i * 2_000);
    const slices = Array.from({ length: SLICES }, (_, s) => {
      const key = `bench.outcomes.s${String(s).padStart(3, '0')}`;
      const figures = (path: 'NEW' | 'LEGACY') => {
        const buckets = histogram(path, CALLS);
        return { calls: CALLS, failures: Math.random() < 0.02 ? 1 : 0, buckets };
      };
      return { key, NEW: figures('NEW'), LEGACY: figures('LEGACY') };
    });
    const head = {
      appName: `bench-app-${i % APPS}`,
      instanceId: `bench-instance-${i}`,
      sdkName: 'switchyard-node',
      sdkVersion: '0.1.0',
      revision: 101,
      syncedAt: stop.toISOString(),
      bucket: { start: new Date(stop.getTime() - 2_000).toISOString(), stop: stop.toISOString(), slices: {} },
      metricsIntervalMs: 60_000,
    };
    const report = compact
      ? {
          ...head,
          compactOutcomes: {
            format: 1,
            scheme: LATENCY_SCHEME,
            slices: slices.map((s) => [s.key, [s.NEW.failures, ...compactOf(s.NEW.buckets)], [s.LEGACY.failures, ...compactOf(s.LEGACY.buckets)]]),
          },
        }
      : {
          ...head,
          outcomes: Object.fromEntries(
            slices.map((s) => [
              s.key,
              {
                NEW: { calls: s.NEW.calls, failures: s.NEW.failures, latency: { scheme: LATENCY_SCHEME, buckets: s.NEW.buckets } },
                LEGACY: { calls: s.LEGACY.calls, failures: s.LEGACY.failures, latency: { scheme: LATENCY_SCHEME, buckets: s.LEGACY.buckets } },
              },
            ]),
          ),
        };
    out.push(Buffer.from(JSON.stringify(report)));
  }
  return out;
}

/** CPU µs per report of body reading, validation and buffering; the buffer drained every 500 reports (the flush). */
function round(list: readonly Buffer[]): { parse: number; all: number } {
  let buffer = new TrafficBuffer(DEFAULT_BUFFER_LIMITS);
  let parseUs = 0;
  const begin = process.cpuUsage();
  for (let i = 0; i < REPORTS; i++) {
    const t0 = process.cpuUsage();
    const parsed = parseSdkReport(parseJsonBody(list[i % list.length]!));
    const t1 = process.cpuUsage(t0);
    parseUs += t1.user + t1.system;
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.violations));
    const r = parsed.value;
    const instance: InstanceObservation = {
      protocol: 'SWITCHYARD',
      appName: r.appName,
      instanceId: r.instanceId,
      sdkName: r.sdkName,
      sdkVersion: r.sdkVersion,
      revision: r.revision,
      syncedAt: r.syncedAt,
      clientSpec: null,
      seenAt: RECEIVED_AT,
      closedAt: null,
      reportIntervalMs: r.metricsIntervalMs,
    };
    // Received within the same second, as the reports between two flushes are: one or two minutes' cells.
    const receivedAt = RECEIVED_AT + Math.floor(i / 500) * 1_000;
    const bucketStart = bucketStartFor(receivedAt, r.start, r.stop);
    const added = buffer.add(instance, { bucketStart, slices: r.slices }, 'bench', { bucketStart, receivedAt, outcomes: r.outcomes, comparisons: r.comparisons });
    if (added !== 'accepted') throw new Error(added);
    if (i % 500 === 499) buffer = new TrafficBuffer(DEFAULT_BUFFER_LIMITS);
  }
  const used = process.cpuUsage(begin);
  return { parse: parseUs / REPORTS, all: (used.user + used.system) / REPORTS };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const forms = { outcomes: bodies(false), compactOutcomes: bodies(true) };
const results: Record<string, { bytes: number; parse: number[]; all: number[] }> = {};
for (const [name, list] of Object.entries(forms)) results[name] = { bytes: list.reduce((n, b) => n + b.length, 0) / list.length, parse: [], all: [] };
for (let r = 0; r < ROUNDS; r++) {
  // Alternated, so that a busy spell of the machine falls on both.
  for (const [name, list] of Object.entries(forms)) {
    const { parse, all } = round(list);
    results[name]!.parse.push(parse);
    results[name]!.all.push(all);
  }
}
console.log(`Outcome report ingest in-process: ${SLICES} slices, both paths, ${CALLS} calls a path; ${REPORTS} reports a round, median of ${ROUNDS} rounds (CPU time)`);
console.table(
  Object.fromEntries(
    Object.entries(results).map(([name, r]) => [
      name,
      {
        'body bytes': Math.round(r.bytes),
        'read + validate µs': median(r.parse).toFixed(1),
        'with buffer µs': median(r.all).toFixed(1),
        'spread (min-max) µs': `${Math.min(...r.all).toFixed(1)}-${Math.max(...r.all).toFixed(1)}`,
      },
    ]),
  ),
);
