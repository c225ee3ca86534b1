/**
 * npm run bench:delivery
 *
 * GET /sdk/v1/snapshot throughput at 50 connections (autocannon, 10 s), on the embedded engine and
 * on PostgreSQL, with a realistic configuration (200 slices, 20 segments, one 1,000-id list):
 *  (a) without If-None-Match: 200 with the whole snapshot;
 *  (b) with If-None-Match = the current ETag: 304, no body.
 * Compared with the Unleash server's client endpoint on this kind of machine (2,800 req/s, 3,300
 * with ETag); target at least 3x. autocannon runs in this process and the service in its child,
 * on the same 2 shared cores: the figures are what the service gets while sharing them.
 * For scale, the same bytes from a bare node:http server (no framework, same token hashing) on
 * the same machine in the same run: the ceiling any Node service can reach here.
 * Then GET /api/client/features, as an official Unleash SDK (Go, declaring client specification
 * 4.3.1) polls it, (c) without and (d) with If-None-Match: served on the same fast path.
 * Prints figures; asserts nothing.
 *
 * Requests carry `accept-encoding: gzip, deflate`, as Node's fetch (and so the SDK) sends it.
 *
 * BENCH_ENCODING=identity (uncompressed bodies)  BENCH_ENGINES=embedded,postgres  BENCH_DURATION=10 (s)  BENCH_CONNECTIONS=50  BENCH_BARE=0 skips the ceiling
 * BENCH_CPU_PROF=dir: run the service under --cpu-prof, profiles written to dir on exit.
 */
import autocannon, { type Result } from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { startServer } from './bench-server.js';
import { cpuMs, createSdkToken, fetchSnapshot, fmt, REALISTIC, seedRealisticConfiguration } from './bench-config.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 10);
const WARMUP_S = 3;
const ENCODING = process.env.BENCH_ENCODING ?? 'gzip, deflate';
const UNLEASH = { plain: 2800, etag: 3300 };
const TARGET_RATIO = 3;

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

/** What an official Go SDK sends with each poll (every release declares client specification 4.3.1). */
const UNLEASH_SDK_HEADERS = { 'unleash-client-spec': '4.3.1', 'unleash-appname': 'bench-go', 'unleash-instanceid': 'bench-1', 'unleash-sdk': 'unleash-client-go:4.1.0' };

async function cannon(target: Target, headers: Record<string, string>, seconds: number, path = '/sdk/v1/snapshot'): Promise<Run> {
  const serviceBefore = cpuMs(target.pid);
  const benchBefore = process.cpuUsage();
  const result = await autocannon({ url: `${target.url}${path}`, connections: CONNECTIONS, duration: seconds, headers });
  const bench = process.cpuUsage(benchBefore);
  return { result, serviceCpuMs: cpuMs(target.pid) - serviceBefore, benchCpuMs: (bench.user + bench.system) / 1000 };
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

async function measureUnleash(name: string, target: Target, token: string): Promise<NonNullable<Figures['unleash']>> {
  const path = '/api/client/features';
  const headers = { authorization: token, ...UNLEASH_SDK_HEADERS, ...(ENCODING === 'identity' ? {} : { 'accept-encoding': ENCODING }) };
  const first = await fetch(`${target.url}${path}`, { headers: { ...headers, 'accept-encoding': 'identity' } });
  if (first.status !== 200) throw new Error(`GET ${path} answered ${first.status}`);
  const bytes = (await first.arrayBuffer()).byteLength;
  const etag = first.headers.get('etag') ?? '';
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
    await seedRealisticConfiguration(server);
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

const engines = (process.env.BENCH_ENGINES ?? 'embedded,postgres').split(',') as ('postgres' | 'embedded')[];
const results: Figures[] = [];
for (const engine of engines) results.push(await runService(engine));
if (process.env.BENCH_BARE !== '0' && lastSnapshot !== null) results.push(await runBare(lastSnapshot));

const row = (r: Run, unleash: number, expected: '200' | '304', isService: boolean) => {
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
    'vs Unleash': `${(result.requests.average / unleash).toFixed(2)}x of ${fmt.int(unleash)}`,
    [`target >= ${TARGET_RATIO}x`]: isService ? (result.requests.average >= TARGET_RATIO * unleash ? 'met' : 'MISSED') : '-',
  };
};

console.log(
  `\nGET /sdk/v1/snapshot, ${CONNECTIONS} connections, ${DURATION_S} s each, after a ${WARMUP_S} s warm-up. ` +
    `Configuration: ${REALISTIC.slices} slices, ${REALISTIC.segments} segments, one ${fmt.int(REALISTIC.listIds)}-id IN list.`,
);
console.log(
  `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), shared: autocannon runs in this process and the server in its child process, ` +
    `so both compete for the same cores (CPU columns: share of one core over the run; Node serves requests on one thread).`,
);
for (const r of results) {
  console.log(`\n${r.name}: snapshot revision ${r.revision}, ${fmt.int(r.snapshotBytes)} bytes (${fmt.kib(r.snapshotBytes)})`);
  const isService = !r.name.startsWith('bare');
  console.table({
    '(a) no If-None-Match (200 + body)': row(r.plain, UNLEASH.plain, '200', isService),
    '(b) If-None-Match = ETag (304)': row(r.etag, UNLEASH.etag, '304', isService),
    ...(r.unleash === undefined
      ? {}
      : {
          [`(c) /api/client/features, ${fmt.kib(r.unleash.bytes)} (200)`]: row(r.unleash.plain, UNLEASH.plain, '200', isService),
          '(d) /api/client/features, If-None-Match (304)': row(r.unleash.etag, UNLEASH.etag, '304', isService),
        }),
  });
  if (r.unleash !== undefined) {
    const ratio = (a: Run, b: Run) => (a.result.requests.average / b.result.requests.average).toFixed(2);
    console.log(`/api/client/features vs /sdk/v1/snapshot in the same run: ${ratio(r.unleash.plain, r.plain)}x (200), ${ratio(r.unleash.etag, r.etag)}x (304)`);
  }
}
