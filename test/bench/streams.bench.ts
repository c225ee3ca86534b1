/**
 * npm run bench:streams
 *
 * One instance holding 10,000 concurrent SDK streams (the issue: "must hold 10,000 concurrent
 * streams per instance"): raw GET /sdk/v1/stream connections with the SDK token and Last-Event-ID =
 * the current revision (so the service sends no initial snapshot), spread over 4 worker processes.
 * Reports the service process's RSS before and after, how long opening them took, and how long a
 * rollback takes to reach all of them (time from sending the mutation to a complete snapshot event
 * on each connection: p50 / p99 / max), with the bench slice alone ("small") and in a realistic
 * configuration (~55 KB per event: 10,000 x 55 KB = 550 MB through loopback per change).
 * Prints figures; asserts nothing.
 *
 * BENCH_STREAMS=10000 BENCH_WORKERS=4 BENCH_ROUNDS=2 BENCH_ENGINE=postgres BENCH_CONFIGS=small,realistic
 */
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { type BenchServer, graphql, percentile, startServer } from './bench-server.js';
import { cpuMs, createSdkToken, fetchSnapshot, fmt, rssMiB, seedRealisticConfiguration } from './bench-config.js';
import { IpcWorker } from './ipc-worker.js';
import type { FromStreamsWorker, ToStreamsWorker } from './streams-worker.js';

const STREAMS = Number(process.env.BENCH_STREAMS ?? 10_000);
const WORKERS = Number(process.env.BENCH_WORKERS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const ENGINE = (process.env.BENCH_ENGINE ?? 'postgres') as 'postgres' | 'embedded';
const CONFIGS = (process.env.BENCH_CONFIGS ?? 'small,realistic').split(',') as ('small' | 'realistic')[];
const SLICE = 'bench.streams';
const OPEN_CONCURRENCY = 50; // per worker
const RECEIVE_TIMEOUT_MS = 60_000;

type Worker = IpcWorker<ToStreamsWorker, FromStreamsWorker>;
const wallNow = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Figures {
  config: string;
  snapshotBytes: number;
  open: { ok: number; failed: number; ms: number; firstError: string | null };
  rss: { before: number; open: number; afterRounds: number; afterClose: number };
  rounds: { delays: number[]; missing: number; dropped: number; mutationMs: number; fanOutCpuMs: number }[];
}

async function run(config: 'small' | 'realistic'): Promise<Figures> {
  let server: BenchServer | null = null;
  const workers: Worker[] = [];
  try {
    server = await startServer(ENGINE);
    if (config === 'realistic') await seedRealisticConfiguration(server);
    await graphql(server, 'mutation($key: String!) { createSlice(key: $key, percent: 100) { key } }', { key: SLICE });
    const token = await createSdkToken(server);
    const snapshot = await fetchSnapshot(server, token);
    await sleep(1000);
    const rssBefore = rssMiB(server.pid);
    process.stderr.write(`[${config}] snapshot ${snapshot.bytes} bytes, service RSS ${rssBefore.toFixed(1)} MiB; opening ${STREAMS} streams\n`);

    const begin = performance.now();
    const perWorker = Math.ceil(STREAMS / WORKERS);
    const openings: Promise<Extract<FromStreamsWorker, { type: 'opened' }>>[] = [];
    for (let i = 0; i < WORKERS; i++) {
      const worker: Worker = new IpcWorker('streams-worker.js');
      workers.push(worker);
      openings.push(worker.next('opened', 120_000));
      worker.send({ type: 'open', url: server.baseUrl, token, count: Math.min(perWorker, STREAMS - i * perWorker), lastEventId: snapshot.revision, concurrency: OPEN_CONCURRENCY });
    }
    const opened = await Promise.all(openings);
    const openMs = performance.now() - begin;
    const open = {
      ok: opened.reduce((n, o) => n + o.ok, 0),
      failed: opened.reduce((n, o) => n + o.failed, 0),
      ms: openMs,
      firstError: opened.find((o) => o.firstError !== null)?.firstError ?? null,
    };
    await sleep(2000);
    const rssOpen = rssMiB(server.pid);
    process.stderr.write(`[${config}] ${open.ok} streams open in ${openMs.toFixed(0)} ms (${open.failed} failed); service RSS ${rssOpen.toFixed(1)} MiB\n`);

    const rounds: Figures['rounds'] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const mutation of ['rollback', 'resume'] as const) {
        const armed = workers.map((w) => w.next('armed', 5000));
        for (const w of workers) w.send({ type: 'arm', round, timeoutMs: RECEIVE_TIMEOUT_MS });
        await Promise.all(armed);
        const received = workers.map((w) => w.next('received', RECEIVE_TIMEOUT_MS + 5000));
        const cpuBefore = cpuMs(server.pid);
        const sentAt = wallNow();
        await graphql(server, `mutation($key: String!, $r: String!) { ${mutation}(key: $key, reason: $r) { state } }`, { key: SLICE, r: `bench ${round}` });
        const mutationMs = wallNow() - sentAt;
        const reports = await Promise.all(received);
        const fanOutCpuMs = cpuMs(server.pid) - cpuBefore;
        if (mutation === 'rollback') {
          const delays = reports.flatMap((r) => r.times.map((t) => t - sentAt));
          rounds.push({
            delays,
            missing: reports.reduce((n, r) => n + r.missing, 0),
            dropped: reports.reduce((n, r) => n + r.dropped, 0),
            mutationMs,
            fanOutCpuMs,
          });
          const sorted = [...delays].sort((a, b) => a - b);
          process.stderr.write(
            `[${config}] round ${round + 1}: rollback reached ${delays.length} streams, p50 ${percentile(sorted, 50).toFixed(0)} ms, ` +
              `p99 ${percentile(sorted, 99).toFixed(0)} ms, max ${sorted[sorted.length - 1]?.toFixed(0)} ms\n`,
          );
        }
        await sleep(1000);
      }
    }
    const rssAfterRounds = rssMiB(server.pid);
    await Promise.all(workers.splice(0).map((w) => w.close({ type: 'close' })));
    await sleep(2000);
    const rssAfterClose = rssMiB(server.pid);
    return { config, snapshotBytes: snapshot.bytes, open, rss: { before: rssBefore, open: rssOpen, afterRounds: rssAfterRounds, afterClose: rssAfterClose }, rounds };
  } finally {
    await Promise.all(workers.map((w) => w.close({ type: 'close' })));
    await server?.stop();
  }
}

const results: Figures[] = [];
for (const config of CONFIGS) results.push(await run(config));

console.log(
  `\n${STREAMS.toLocaleString('en-US')} concurrent SSE streams on one instance (${ENGINE}), raw connections from ${WORKERS} worker processes ` +
    `(${OPEN_CONCURRENCY} connecting at a time per worker), Last-Event-ID = current revision. ${cpus().length} shared cores.`,
);
console.table(
  Object.fromEntries(
    results.map((r) => [
      `${r.config} config (${fmt.kib(r.snapshotBytes)} per event)`,
      {
        'streams open': `${r.open.ok.toLocaleString('en-US')} (${r.open.failed} failed${r.open.firstError ? `: ${r.open.firstError}` : ''})`,
        'opened in': fmt.ms(r.open.ms),
        'RSS before': fmt.mib(r.rss.before),
        'RSS with streams open': fmt.mib(r.rss.open),
        'RSS per stream': `${(((r.rss.open - r.rss.before) * 1024) / Math.max(1, r.open.ok)).toFixed(1)} KiB`,
        'RSS after the rounds': fmt.mib(r.rss.afterRounds),
        'RSS after closing': fmt.mib(r.rss.afterClose),
      },
    ]),
  ),
);
console.log('\nA rollback reaching every stream (from sending the mutation to a complete snapshot event on each connection):');
console.table(
  Object.fromEntries(
    results.flatMap((r) =>
      r.rounds.map((round, i) => {
        const sorted = [...round.delays].sort((a, b) => a - b);
        return [
          `${r.config}, round ${i + 1}`,
          {
            reached: `${round.delays.length.toLocaleString('en-US')} of ${r.open.ok.toLocaleString('en-US')}`,
            'dropped connections': round.dropped,
            'mutation answered': fmt.ms(round.mutationMs),
            p50: fmt.ms(percentile(sorted, 50)),
            p99: fmt.ms(percentile(sorted, 99)),
            max: fmt.ms(sorted[sorted.length - 1] ?? NaN),
            'service CPU, mutation + fan-out': fmt.ms(round.fanOutCpuMs),
          },
        ];
      }),
    ),
  ),
);
