/**
 * npm run bench:delivery
 *
 * GET /sdk/v1/snapshot throughput at 50 connections (autocannon, 10 s), on the embedded engine and
 * on PostgreSQL, with a realistic configuration (200 slices, 20 segments, one 1,000-id list):
 *  (a) without If-None-Match: 200 with the whole snapshot;
 *  (b) with If-None-Match = the current ETag: 304, no body.
 * Then GET /api/client/features, as an official Unleash SDK (Go, declaring client specification
 * 4.3.1) polls it, (c) without and (d) with If-None-Match: served on the same fast path.
 * For scale, the same bytes from a bare node:http server (no framework, same token hashing) on
 * the same machine in the same run: the ceiling any Node service can reach here.
 *
 * Then the peer, in the same run: the Unleash server itself (unleash-server from the npm registry,
 * installed once into .bench-peers/, see unleash-peer.ts) on the same PostgreSQL server, given
 * through its admin API the very toggles Switchyard served in (c) (same names, strategies,
 * constraints and rollouts), polled the same way (same headers, connections, duration), without
 * and with If-None-Match. Printed: Switchyard / Unleash for /sdk/v1/snapshot and for
 * /api/client/features; target at least 8x.
 *
 * autocannon runs in this process and each server in its own child process, one server at a
 * time, on the same 2 shared cores: the figures are what a server gets while sharing them.
 * Prints figures; asserts nothing.
 *
 * Requests carry `accept-encoding: gzip, deflate`, as Node's fetch (and so the SDK) sends it.
 *
 * BENCH_CONFIG=realistic|small (small: one slice, one toggle)  BENCH_PEER=0 skips the Unleash server (no ratios)
 * BENCH_ENCODING=identity (uncompressed bodies)  BENCH_ENGINES=embedded,postgres  BENCH_DURATION=10 (s)  BENCH_CONNECTIONS=50  BENCH_BARE=0 skips the ceiling
 * BENCH_CPU_PROF=dir: run the service under --cpu-prof, profiles written to dir on exit.
 */
import autocannon, { type Result } from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { graphql, startServer } from './bench-server.js';
import { cpuMs, createSdkToken, fetchSnapshot, fmt, REALISTIC, seedRealisticConfiguration } from './bench-config.js';
import { createToggles, type PeerToggle, startUnleashPeer, type UnleashPeer } from './unleash-peer.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP_S = 3;
const ENCODING = process.env.BENCH_ENCODING ?? 'gzip, deflate';
const CONFIG = (process.env.BENCH_CONFIG ?? 'realistic') as 'realistic' | 'small';
const WITH_PEER = process.env.BENCH_PEER !== '0';
/** Switchyard's requests/s over the Unleash server's on the same request, in the same run (issue 11). */
const TARGET_RATIO = 8;

interface Target {
  readonly url: string;
  readonly pid: number;
}

interface Run {
  result: Result;
  serviceCpuMs: number;
  benchCpuMs: number;
}

interface Figures {
  name: string;
  snapshotBytes: number;
  revision: number;
  plain: Run;
  etag: Run;
  /** GET /api/client/features (services only). */
  unleash?: { bytes: number; plain: Run; etag: Run };
}

/** The Unleash server's GET /api/client/features, polled as (c) and (d) are. */
interface PeerFigures {
  version: string;
  toggles: number;
  bytes: number;
  plain: Run;
  etag: Run;
}

/** What an official Go SDK sends with each poll (every release declares client specification 4.3.1). */
const UNLEASH_SDK_HEADERS = { 'unleash-client-spec': '4.3.1', 'unleash-appname': 'bench-go', 'unleash-instanceid': 'bench-1', 'unleash-sdk': 'unleash-client-go:4.1.0' };

async function cannon(target: Target, headers: Record<string, string>, seconds: number, path = '/sdk/v1/snapshot'): Promise<Run> {
  const serviceBefore = cpuMs(target.pid);
  const benchBefore = process.cpuUsage();
  const result = await autocannon({ url: `${target.url}${path}`, connections: CONNECTIONS, duration: seconds, headers });
  const bench = process.cpuUsage(benchBefore);
  const run = { result, serviceCpuMs: cpuMs(target.pid) - serviceBefore, benchCpuMs: (bench.user + bench.system) / 1000 };
  await settle(target);
  return run;
}

/**
 * Waits until the server has worked off what the run left it: requests autocannon gave up on
 * (timeouts) are still being answered, and would otherwise count against the next run. A server
 * that answers within the run is idle at once; a slow one (the Unleash server with a 4 MiB body)
 * can take tens of seconds. Idle: under a fifth of a core for a whole second; at most 120 s.
 */
async function settle(target: Target): Promise<void> {
  const deadline = Date.now() + 120_000;
  let before = cpuMs(target.pid);
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1000));
    const now = cpuMs(target.pid);
    if (now - before < 200) return;
    before = now;
  }
  process.stderr.write(`[bench] server ${target.pid} still busy after 120 s; measuring anyway\n`);
}

async function measure(name: string, target: Target, token: string, etag: string): Promise<Pick<Figures, 'plain' | 'etag'>> {
  // What the SDK (Node's fetch) sends; BENCH_ENCODING=identity measures uncompressed bodies.
  const auth = { authorization: `Bearer ${token}`, ...(ENCODING === 'identity' ? {} : { 'accept-encoding': ENCODING }) };
  process.stderr.write(`[${name}] warming up ${WARMUP_S} s\n`);
  await cannon(target, auth, WARMUP_S);
  process.stderr.write(`[${name}] (a) without If-None-Match, ${DURATION_S} s\n`);
  const plain = await cannon(target, auth, DURATION_S);
  process.stderr.write(`[${name}] (b) with If-None-Match: ${etag}, ${DURATION_S} s\n`);
  const etagRun = await cannon(target, { ...auth, 'if-none-match': etag }, DURATION_S);
  return { plain, etag: etagRun };
}

/** Toggles as Switchyard served them to the Go SDK: what the Unleash server is given to serve. */
let servedToggles: PeerToggle[] | null = null;

async function measureUnleash(name: string, target: Target, token: string, warmUp = false): Promise<NonNullable<Figures['unleash']>> {
  const path = '/api/client/features';
  const headers = { authorization: token, ...UNLEASH_SDK_HEADERS, ...(ENCODING === 'identity' ? {} : { 'accept-encoding': ENCODING }) };
  const first = await fetch(`${target.url}${path}`, { headers: { ...headers, 'accept-encoding': 'identity' } });
  if (first.status !== 200) throw new Error(`GET ${path} answered ${first.status}`);
  const body = Buffer.from(await first.arrayBuffer());
  const bytes = body.length;
  const etag = first.headers.get('etag') ?? '';
  servedToggles ??= (JSON.parse(body.toString('utf8')) as { features: PeerToggle[] }).features;
  if (warmUp) {
    process.stderr.write(`[${name}] warming up ${WARMUP_S} s\n`);
    await cannon(target, headers, WARMUP_S, path);
  }
  process.stderr.write(`[${name}] (c) ${path} without If-None-Match, ${DURATION_S} s\n`);
  const plain = await cannon(target, headers, DURATION_S, path);
  process.stderr.write(`[${name}] (d) ${path} with If-None-Match: ${etag}, ${DURATION_S} s\n`);
  const etagRun = await cannon(target, { ...headers, 'if-none-match': etag }, DURATION_S, path);
  return { bytes, plain, etag: etagRun };
}

let lastSnapshot: { body: Buffer; etag: string; revision: number; token: string } | null = null;

async function runService(engine: 'embedded' | 'postgres'): Promise<Figures> {
  const profDir = process.env.BENCH_CPU_PROF;
  const server = await startServer(engine, undefined, profDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] } : {});
  try {
    if (CONFIG === 'realistic') await seedRealisticConfiguration(server);
    else await graphql(server, 'mutation { createSlice(key: "bench.one", percent: 50) { key } }');
    const token = await createSdkToken(server);
    const snapshot = await fetchSnapshot(server, token);
    lastSnapshot = { body: snapshot.body, etag: snapshot.etag, revision: snapshot.revision, token };
    process.stderr.write(`[${engine}] snapshot revision ${snapshot.revision}, ${snapshot.bytes} bytes\n`);
    const runs = await measure(engine, { url: server.baseUrl, pid: server.pid }, token, snapshot.etag);
    const unleash = await measureUnleash(engine, { url: server.baseUrl, pid: server.pid }, token);
    return { name: engine, snapshotBytes: snapshot.bytes, revision: snapshot.revision, ...runs, unleash };
  } finally {
    await server.stop();
  }
}

async function runBare(snapshot: NonNullable<typeof lastSnapshot>): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
  const bodyFile = join(dir, 'snapshot.json');
  writeFileSync(bodyFile, snapshot.body);
  const child = spawn(process.execPath, [resolve('dist/test/bench/bare-snapshot-server.js'), bodyFile, snapshot.etag, snapshot.token], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<string>((done, fail) => {
      createInterface({ input: child.stdout }).once('line', done);
      child.once('exit', (code) => fail(new Error(`bare server exited with ${code}`)));
    });
    const runs = await measure('bare node:http', { url: `http://127.0.0.1:${port}`, pid: child.pid! }, snapshot.token, snapshot.etag);
    return { name: 'bare node:http (ceiling)', snapshotBytes: snapshot.body.length, revision: snapshot.revision, ...runs };
  } finally {
    if (child.exitCode === null) await new Promise<void>((done) => child.once('exit', () => done()).kill('SIGTERM'));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The Unleash server, given the toggles Switchyard served, polled as (c) and (d) poll Switchyard. */
async function runPeer(toggles: readonly PeerToggle[]): Promise<PeerFigures> {
  const peer: UnleashPeer = await startUnleashPeer();
  try {
    process.stderr.write(`[unleash] creating ${toggles.length} toggle(s) through the admin API\n`);
    await createToggles(peer, toggles);
    const token = await peer.createClientToken();
    const { bytes, plain, etag } = await measureUnleash(`unleash-server@${peer.version}`, { url: peer.baseUrl, pid: peer.pid }, token, true);
    return { version: peer.version, toggles: toggles.length, bytes, plain, etag };
  } finally {
    await peer.stop();
  }
}

const engines = (process.env.BENCH_ENGINES ?? 'embedded,postgres').split(',') as ('postgres' | 'embedded')[];
const results: Figures[] = [];
for (const engine of engines) results.push(await runService(engine));
if (process.env.BENCH_BARE !== '0' && lastSnapshot !== null) results.push(await runBare(lastSnapshot));
// Last, alone: a peer idling during Switchyard's runs would still take CPU (its scheduled jobs).
const peer = WITH_PEER && servedToggles !== null ? await runPeer(servedToggles) : null;

const row = (r: Run, expected: '200' | '304') => {
  const { result } = r;
  const seconds = result.duration;
  return {
    'req/s avg': fmt.int(result.requests.average),
    'req/s p50': fmt.int(result.requests.p50),
    'latency p50': fmt.ms(result.latency.p50),
    'latency p99': fmt.ms(result.latency.p99),
    'MiB/s': (result.throughput.average / 1024 / 1024).toFixed(1),
    'expected status': `${fmt.int(result[expected === '200' ? '2xx' : '3xx'])} x ${expected}`,
    'other statuses / errors': `${result.non2xx - (expected === '304' ? result['3xx'] : 0)} / ${result.errors + result.timeouts}`,
    'server CPU': `${((r.serviceCpuMs / (seconds * 1000)) * 100).toFixed(0)} %`,
    'autocannon CPU': `${((r.benchCpuMs / (seconds * 1000)) * 100).toFixed(0)} %`,
    'server CPU / req': `${((r.serviceCpuMs * 1000) / Math.max(1, result.requests.total)).toFixed(0)} µs`,
  };
};

console.log(
  `\nGET /sdk/v1/snapshot, ${CONNECTIONS} connections, ${DURATION_S} s each, after a ${WARMUP_S} s warm-up. ` +
    (CONFIG === 'realistic'
      ? `Configuration: ${REALISTIC.slices} slices, ${REALISTIC.segments} segments, one ${fmt.int(REALISTIC.listIds)}-id IN list.`
      : 'Configuration: one slice (one toggle), 50 %.'),
);
console.log(
  `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), shared: autocannon runs in this process and the server in its child process, ` +
    `so both compete for the same cores; one server runs at a time (CPU columns: share of one core over the run; Node serves requests on one thread).`,
);
for (const r of results) {
  console.log(`\n${r.name}: snapshot revision ${r.revision}, ${fmt.int(r.snapshotBytes)} bytes (${fmt.kib(r.snapshotBytes)})`);
  console.table({
    '(a) no If-None-Match (200 + body)': row(r.plain, '200'),
    '(b) If-None-Match = ETag (304)': row(r.etag, '304'),
    ...(r.unleash === undefined
      ? {}
      : {
          [`(c) /api/client/features, ${fmt.kib(r.unleash.bytes)} (200)`]: row(r.unleash.plain, '200'),
          '(d) /api/client/features, If-None-Match (304)': row(r.unleash.etag, '304'),
        }),
  });
  if (r.unleash !== undefined) {
    const ratio = (a: Run, b: Run) => (a.result.requests.average / b.result.requests.average).toFixed(2);
    console.log(`/api/client/features vs /sdk/v1/snapshot in the same run: ${ratio(r.unleash.plain, r.plain)}x (200), ${ratio(r.unleash.etag, r.etag)}x (304)`);
  }
}

if (peer === null) {
  console.log(`\nUnleash server: ${WITH_PEER ? 'not run (no service ran)' : 'skipped (BENCH_PEER=0)'}; no ratios.`);
} else {
  console.log(
    `\nunleash-server@${peer.version} (npm registry), on the same PostgreSQL server, after a ${WARMUP_S} s warm-up: GET /api/client/features, ` +
      `${fmt.int(peer.bytes)} bytes (${fmt.kib(peer.bytes)}). Its toggles: the ${peer.toggles} Switchyard served in (c), created through its admin API ` +
      `(same names, strategies, constraints and rollouts; Switchyard's segments are inlined as constraints, so the Unleash server has none).`,
  );
  console.table({
    '(c) /api/client/features (200)': row(peer.plain, '200'),
    '(d) /api/client/features, If-None-Match (304)': row(peer.etag, '304'),
  });
  // Requests answered over the run's duration: the Unleash server can answer fewer than one a second.
  const rate = (r: Run) => r.result.requests.total / r.result.duration;
  const cell = (a: Run, b: Run) => {
    if (b.result.requests.total === 0) return 'met (the Unleash server answered none)';
    const x = rate(a) / rate(b);
    return `${x >= 100 ? fmt.int(x) : x.toFixed(2)}x ${x >= TARGET_RATIO ? '(met)' : '(MISSED)'}`;
  };
  // Server CPU per request, the other way round (Unleash / Switchyard): how much more work the Unleash
  // server does per answer. Less sensitive than requests/s to the share of the cores each server got
  // from everything else running on the machine.
  const cpuPerRequest = (r: Run) => r.serviceCpuMs / Math.max(1, r.result.requests.total);
  const cpuCell = (a: Run, b: Run) => (b.result.requests.total === 0 ? '-' : `${(cpuPerRequest(b) / cpuPerRequest(a)).toFixed(1)}x`);
  console.log(`\nSwitchyard / Unleash server, requests answered per second in this run (target >= ${TARGET_RATIO}x), and server CPU per request, Unleash / Switchyard:`);
  console.table(
    Object.fromEntries(
      results
        .filter((r) => r.unleash !== undefined)
        .map((r) => [
          r.name,
          {
            '/sdk/v1/snapshot (200)': cell(r.plain, peer.plain),
            '/sdk/v1/snapshot (304)': cell(r.etag, peer.etag),
            '/api/client/features (200)': cell(r.unleash!.plain, peer.plain),
            '/api/client/features (304)': cell(r.unleash!.etag, peer.etag),
            'CPU/req (200), snapshot | features': `${cpuCell(r.plain, peer.plain)} | ${cpuCell(r.unleash!.plain, peer.plain)}`,
            'CPU/req (304), snapshot | features': `${cpuCell(r.etag, peer.etag)} | ${cpuCell(r.unleash!.etag, peer.etag)}`,
          },
        ]),
    ),
  );
}
