/**
 * npm run bench:sdk
 *
 * Every measurement runs in BENCH_PROCESSES (default 5) fresh child processes of this script, one
 * after the other; the parent prints, per contender, the median over the processes of each
 * process's median of rounds, and their spread (min..max): one process's figure swings with the
 * JIT's state (the same `decide` measured 53 ns and 90 ns on one day), several processes show it.
 * Costs are CPU time per call (process.cpuUsage around each round: the process's user + system
 * time, GC threads included), so that other processes on a shared machine do not inflate them as
 * they inflate wall time (printed beside). A monotonic clock reading costs what the machine's clock
 * source costs (about 50 ns under kvm-clock here): `route` reads it twice for each call it times
 * (every call of a quiet path, 1 in 16 of a busy one), and the line says so.
 *
 * The cost of one local decision, side by side in the same process over the same 1,000,000
 * pre-generated contexts:
 *  - our SDK's `client.decide(slice, context)` (createClient with a bootstrap snapshot, no service);
 *  - the decision core alone, `compileSnapshot(def).decide(...)` (what the client wraps);
 *  - the official Unleash Node SDK's `isEnabled(toggle, context)` (unleash-client, bootstrapped
 *    with the equivalent toggle, no server, no metrics);
 *  - for scale: `murmurhash3js` alone on a 30-byte key, and our prefix-resuming hash on the id only;
 *  - `client.route(slice, context, handlers)` with its outcome recording (counts and one histogram
 *    increment per call; two monotonic clock readings per timed call) around a synchronous handler,
 *    next to the handler called alone, and `client.compare(...)` when the call is not sampled (the
 *    slice compares 0.01 % of calls: the draw happens, the other path almost never runs); and one
 *    `performance.now()`, the clock a timed call reads twice, for scale.
 * The configuration: one slice whose only rule sends segment `country IN [KE, GH]` to 25 % (the
 * slice's own rollout is 0 %), stickiness userId; in Unleash, a flexibleRollout strategy at 25 %
 * with groupId = slice key, stickiness userId and the constraint country IN [KE, GH]. Half the
 * contexts are in KE or GH. Both SDKs get the very same context objects ({ userId, country }: Unleash
 * reads a custom field from the top level of the context before `properties`).
 * Two more rows, labelled "host-like", for the condition a service is in rather than this loop's
 * (they are not judged against any target): the verdict rows walk 1,000,000 contexts built up
 * front, so each call meets its context and id cold in memory, and ids built by template literals
 * are V8 cons strings, read through one more pointer per character. A service builds the context
 * per request from an id it has just parsed (JSON, a header: a flat string), so both are in cache:
 *  - `client.decide(slice, { userId, country })` with the object built in the call, over ids that
 *    went through JSON.parse, walked in a window of 1,000 subjects (cache-resident) per round;
 *  - `client.route(...)` the same way.
 * Also prints how often the two agree (must be 100 %: whole percent, ASCII ids).
 * Prints figures; asserts nothing. BENCH_CONTEXTS=1000000 BENCH_ROUNDS=3 BENCH_PROCESSES=5
 */
import { createClient, type SnapshotDefinition } from '@switchyard/client-sdk';
import { compileSnapshot, positionWithPrefix, prepareHashPrefix } from '@switchyard/client-sdk/core';
import { execFileSync } from 'node:child_process';
import { subscribe } from 'node:diagnostics_channel';
import { cpus } from 'node:os';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import murmurhash3js from 'murmurhash3js';
import { InMemStorageProvider, Unleash } from 'unleash-client';

const CONTEXTS = Number(process.env.BENCH_CONTEXTS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 5);
const SLICE = 'payments.provider.mpesa';
const UNLEASH_REFERENCE_NS = 2000;
const TARGET_RATIO = 30;
const TARGET_NS = 50;
/** Subjects the host-like rows cycle through (their ids and contexts stay in cache). */
const HOT_WINDOW = 1_000;
/** `route` with outcomes, over the handler called alone. */
const TARGET_ROUTE_OVERHEAD_NS = 150;

/** What one child process measured (printed by it as one JSON line, read by the parent). */
interface ChildResult {
  readonly contenders: { name: string; ns: number; wallNs: number; rounds: number[]; gcs: number; decision: boolean; sink: string }[];
  readonly agreement: { disagreements: number; ourNew: number; theirNew: number; first: string[] };
  readonly network: { before: number; during: number; unleashErrors: number };
}

if (process.env.BENCH_CHILD !== '1') {
  runParent();
  process.exit(0);
}

/** Runs the measurements in PROCESSES fresh processes and prints the medians and spreads. */
function runParent(): void {
  const results: ChildResult[] = [];
  for (let p = 0; p < PROCESSES; p++) {
    process.stderr.write(`process ${p + 1}/${PROCESSES}\n`);
    const out = execFileSync(process.execPath, [...process.execArgv, process.argv[1]!], {
      env: { ...process.env, BENCH_CHILD: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 * 1024 * 1024,
    }).toString('utf8');
    results.push(JSON.parse(out.trim().split('\n').at(-1)!) as ChildResult);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const names = results[0]!.contenders.map((c) => c.name);
  const perProcess = (name: string) => results.map((r) => r.contenders.find((c) => c.name === name)!.ns);
  const med = (name: string) => median(perProcess(name));
  const spread = (xs: number[]) => `${Math.min(...xs).toFixed(1)}..${Math.max(...xs).toFixed(1)}`;
  const unleash = 'unleash-client isEnabled()';
  const decide = 'Switchyard SDK client.decide()';
  const route = 'client.route(), sync handler, outcome recorded';
  const handler = 'the handler alone';
  const compare = 'client.compare(), not sampled (0.01 % shadow)';
  /** Per process, a ratio or difference of two contenders measured in that same process. */
  const paired = (f: (r: ChildResult) => number) => results.map(f);
  const nsOf = (r: ChildResult, name: string) => r.contenders.find((c) => c.name === name)!.ns;

  console.log(
    `\nCost per call: ${PROCESSES} fresh processes, each ${ROUNDS} rounds (alternating order) over ${CONTEXTS.toLocaleString('en-US')} contexts; ` +
      `per process the median of its rounds; below, the median of the ${PROCESSES} processes and their min..max. ` +
      `Costs are CPU time per call (process.cpuUsage over the round: the work done, whatever else the shared machine runs; targets are judged on it); wall time beside. ` +
      `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), shared.`,
  );
  console.log(
    `Slice "${SLICE}": its only rule sends segment country IN [KE, GH] to 25 % (0 % otherwise); stickiness userId. Unleash: flexibleRollout 25 %, groupId = slice key, same constraint.`,
  );
  console.table(
    Object.fromEntries(
      names.map((name) => {
        const xs = perProcess(name);
        const first = results[0]!.contenders.find((c) => c.name === name)!;
        const ratios = paired((r) => nsOf(r, unleash) / nsOf(r, name));
        return [
          name,
          {
            'CPU ns/call (median of processes)': med(name).toFixed(1),
            'min..max of processes': spread(xs),
            'wall ns/call (median)': median(results.map((r) => r.contenders.find((c) => c.name === name)!.wallNs)).toFixed(1),
            'calls/s': Math.round(1e9 / med(name)).toLocaleString('en-US'),
            'x faster than unleash-client (median, min..max)': first.decision ? `${median(ratios).toFixed(1)} (${spread(ratios)})` : '-',
            'GCs during rounds (all processes)': results.reduce((n, r) => n + r.contenders.find((c) => c.name === name)!.gcs, 0),
            'result (process 1)': first.sink,
          },
        ];
      }),
    ),
  );
  const decideNs = med(decide);
  const ratios = paired((r) => nsOf(r, unleash) / nsOf(r, decide));
  const overheads = paired((r) => nsOf(r, route) - nsOf(r, handler));
  const measuring = paired((r) => nsOf(r, route) - nsOf(r, decide));
  const compareOver = paired((r) => nsOf(r, compare) - nsOf(r, handler));
  console.table({
    'client.decide()': {
      measured: `${decideNs.toFixed(1)} ns (${spread(perProcess(decide))})`,
      target: `<= ${TARGET_NS} ns`,
      verdict: decideNs <= TARGET_NS ? 'met' : 'MISSED',
    },
    'client.decide() vs unleash-client, same process': {
      measured: `${median(ratios).toFixed(1)}x (${spread(ratios)}); vs the reference ${UNLEASH_REFERENCE_NS} ns: ${(UNLEASH_REFERENCE_NS / decideNs).toFixed(1)}x`,
      target: `>= ${TARGET_RATIO}x`,
      verdict: median(ratios) >= TARGET_RATIO ? 'met' : 'MISSED',
    },
    'client.route() with outcomes, over the handler alone': {
      measured: `${median(overheads).toFixed(1)} ns (${spread(overheads)}); of which measuring (route - decide) ${median(measuring).toFixed(1)} ns, two performance.now() ${(2 * med('performance.now() alone')).toFixed(1)} ns per timed call (1 in 16 here)`,
      target: `< ${TARGET_ROUTE_OVERHEAD_NS} ns`,
      verdict: median(overheads) < TARGET_ROUTE_OVERHEAD_NS ? 'met' : 'MISSED',
    },
    'client.compare() not sampled, over the handler alone': {
      measured: `${median(compareOver).toFixed(1)} ns (${spread(compareOver)})`,
      target: '-',
      verdict: '-',
    },
  });
  console.log(
    'What the rows measure: the verdict rows (client.decide(), client.route(), client.compare()) walk 1,000,000 contexts generated before timing, so every call meets ' +
      'its context and id cold in memory (ids built by template literals are V8 cons strings, one more pointer per character); half of them (KE, GH) hash the id. ' +
      '"host-like" rows (not judged) build the context in the call, as a service does per request, from ids parsed from JSON (flat strings) over a window of ' +
      `${HOT_WINDOW.toLocaleString('en-US')} subjects that stays in cache. route times every call of a quiet path and a random 1 in 16 beyond ` +
      'the first 1,000 calls of a path between two reports (docs/outcomes.md, "Which calls are timed"): here nearly all calls are beyond them.',
  );
  const { agreement } = results[0]!;
  console.log(
    `\nAgreement over the ${CONTEXTS.toLocaleString('en-US')} contexts (process 1): ${(((CONTEXTS - agreement.disagreements) / CONTEXTS) * 100).toFixed(4)} % ` +
      `(${agreement.disagreements} disagreements; NEW: ours ${agreement.ourNew.toLocaleString('en-US')}, unleash ${agreement.theirNew.toLocaleString('en-US')}).`,
  );
  for (const line of agreement.first) console.log(`  ${line}`);
  for (const [i, r] of results.entries()) {
    console.log(
      `Network, process ${i + 1}: ${r.network.during} connections or fetches started during timing and agreement, ${r.network.before} before ` +
        `(our client polls http://127.0.0.1:9, which fetch refuses before connecting: port 9 is on its bad-port list); unleash-client errors: ${r.network.unleashErrors}.`,
    );
  }
}

// ---------------------------------------------------------------- the configuration, both ways

const definition: SnapshotDefinition = {
  revision: 1,
  slices: [
    {
      key: SLICE,
      state: 'ACTIVE',
      basisPoints: 0,
      stickinessAttribute: 'userId',
      targeting: { include: [], exclude: [], rules: [{ segments: ['ke-gh'], basisPoints: 2500 }] },
      // compare() runs the other path on 0.01 % of calls: its figure is the not-sampled path's
      // (the draw included). No decision reads it.
      shadowBasisPoints: 1,
    },
  ],
  segments: [{ key: 'ke-gh', constraints: [{ attribute: 'country', operator: 'IN', values: ['KE', 'GH'], inverted: false, caseInsensitive: false }] }],
};

const toggle = {
  name: SLICE,
  enabled: true,
  type: 'release',
  project: 'default',
  stale: false,
  impressionData: false,
  variants: [],
  strategies: [
    {
      name: 'flexibleRollout',
      parameters: { rollout: '25', stickiness: 'userId', groupId: SLICE },
      constraints: [{ contextName: 'country', operator: 'IN', values: ['KE', 'GH'], inverted: false, caseInsensitive: false }],
    },
  ],
};

// ---------------------------------------------------------------- contexts (generated before any timing)

function prng(seed: number): () => number {
  // mulberry32: deterministic, so every run decides over the same contexts.
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const COUNTRY_POOL = ['KE', 'GH', 'NG', 'ZA'];
const random = prng(42);
const hex = (n: number) => Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');

type Ctx = { userId: string; country: string };

function makeUserId(i: number): string {
  const kind = random();
  if (kind < 0.4) return String(Math.floor(random() * 1e9)); // numeric ids
  if (kind < 0.7) return `user-${hex(8)}`; // prefixed ids
  if (kind < 0.9) return `${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)}`; // UUIDs
  return `customer.${i}@example.com`; // e-mail addresses
}

const contexts: Ctx[] = new Array<Ctx>(CONTEXTS);
for (let i = 0; i < CONTEXTS; i++) contexts[i] = { userId: makeUserId(i), country: COUNTRY_POOL[Math.floor(random() * COUNTRY_POOL.length)]! };
// 30-byte keys for the murmurhash3js reference ("slice:id", as Unleash hashes them).
const keys30: string[] = contexts.map((c) => `${SLICE}:${c.userId}`.padEnd(30, '0').slice(0, 30));
const ids: string[] = contexts.map((c) => c.userId);
// The contexts the rule matches (KE, GH): every decision on them hashes the id. The others stop at 0 %.
const hashing: Ctx[] = contexts.filter((c) => c.country === 'KE' || c.country === 'GH');
// Host-like rows: the first 1,000 subjects' ids as a service gets them (parsed from JSON: flat
// strings) and their countries, from which each call builds its context.
const parsedIds: string[] = JSON.parse(JSON.stringify(ids.slice(0, HOT_WINDOW))) as string[];
const hotCountries: string[] = contexts.slice(0, HOT_WINDOW).map((c) => c.country);

// ---------------------------------------------------------------- the contenders

// No network I/O during timing: count every connection (node:http, used by unleash-client) and every
// fetch request (undici, used by our SDK) this process starts from here on.
let socketsOpened = 0;
subscribe('net.client.socket', () => socketsOpened++);
subscribe('undici:request:create', () => socketsOpened++);
let unleashErrors = 0;

const client = await createClient({
  // Port 9 is on fetch's bad-port list: the client's polls fail without even connecting. The
  // bootstrap is all it has.
  url: 'http://127.0.0.1:9',
  token: 'x',
  appName: 'bench',
  bootstrap: definition,
  streaming: false,
  initTimeoutMs: 0,
  // One failed poll at start (before timing), then the next attempt an hour later: no I/O meanwhile.
  pollIntervalMs: 3_600_000,
  backoff: { initialMs: 3_600_000, maxMs: 3_600_000 },
  onError: () => undefined,
});
const core = compileSnapshot(definition);
const prefix = prepareHashPrefix(`${SLICE}:`);

const unleash = new Unleash({
  url: 'http://127.0.0.1:9/api',
  appName: 'bench',
  disableMetrics: true,
  refreshInterval: 0, // 0: the fetcher never fetches (polling-fetcher.js: `!(refreshInterval > 0)`)
  bootstrap: { data: [toggle as never] },
  storageProvider: new InMemStorageProvider(),
  skipInstanceCountWarning: true,
});
unleash.on('error', () => unleashErrors++);
unleash.on('warn', () => undefined);
await new Promise<void>((resolve, reject) => {
  if (unleash.isSynchronized()) return resolve();
  const timer = setTimeout(() => reject(new Error('unleash-client did not load its bootstrap in 5 s')), 5000);
  unleash.once('synchronized', () => {
    clearTimeout(timer);
    resolve();
  });
});
// Let the client's start-up poll (to port 9) fail now, before timing.
await new Promise((r) => setTimeout(r, 200));
const socketsBeforeTiming = socketsOpened;

// One dedicated loop per contender, so each call site stays monomorphic. Each returns a sink the
// JIT cannot drop (how many NEW / enabled / the xor of hashes).
function loopClient(): number {
  let sink = 0;
  for (let i = 0; i < contexts.length; i++) if (client.decide(SLICE, contexts[i]) === 'NEW') sink++;
  return sink;
}
function loopClientHashing(): number {
  let sink = 0;
  for (let i = 0; i < hashing.length; i++) if (client.decide(SLICE, hashing[i]) === 'NEW') sink++;
  return sink;
}
function loopCore(): number {
  let sink = 0;
  for (let i = 0; i < contexts.length; i++) if (core.decide(SLICE, contexts[i]) === 'NEW') sink++;
  return sink;
}
function loopUnleash(): number {
  let sink = 0;
  for (let i = 0; i < contexts.length; i++) if (unleash.isEnabled(SLICE, contexts[i])) sink++;
  return sink;
}
function loopMurmurhash3js(): number {
  let sink = 0;
  for (let i = 0; i < keys30.length; i++) sink ^= murmurhash3js.x86.hash32(keys30[i]!, 0);
  return sink;
}
function loopPrefixHash(): number {
  let sink = 0;
  for (let i = 0; i < ids.length; i++) sink ^= positionWithPrefix(prefix, ids[i]!);
  return sink;
}
// A synchronous handler pair that does almost nothing, so that route's own cost shows.
const handlers = { legacy: () => 0, next: () => 1 };
function loopHandler(): number {
  let sink = 0;
  for (let i = 0; i < contexts.length; i++) sink += (i & 1) === 0 ? handlers.next() : handlers.legacy();
  return sink;
}
function loopRoute(): number {
  let sink = 0;
  for (let i = 0; i < contexts.length; i++) sink += client.route(SLICE, contexts[i], handlers);
  return sink;
}
function loopCompare(): number {
  let sink = 0;
  for (let i = 0; i < contexts.length; i++) sink += client.compare(SLICE, contexts[i], handlers);
  return sink;
}
function loopClientHostLike(): number {
  let sink = 0;
  for (let i = 0; i < CONTEXTS; i++) {
    const j = i % HOT_WINDOW;
    if (client.decide(SLICE, { userId: parsedIds[j]!, country: hotCountries[j]! }) === 'NEW') sink++;
  }
  return sink;
}
function loopRouteHostLike(): number {
  let sink = 0;
  for (let i = 0; i < CONTEXTS; i++) {
    const j = i % HOT_WINDOW;
    sink += client.route(SLICE, { userId: parsedIds[j]!, country: hotCountries[j]! }, handlers);
  }
  return sink;
}
function loopNow(): number {
  let sink = 0;
  for (let i = 0; i < contexts.length; i++) sink += performance.now();
  return sink;
}

const contenders = [
  { name: 'Switchyard SDK client.decide()', loop: loopClient, decision: true, calls: CONTEXTS },
  { name: 'Switchyard SDK client.decide(), KE/GH contexts only (every call hashes)', loop: loopClientHashing, decision: true, calls: hashing.length },
  { name: 'Switchyard core compiled.decide()', loop: loopCore, decision: true, calls: CONTEXTS },
  { name: 'unleash-client isEnabled()', loop: loopUnleash, decision: true, calls: CONTEXTS },
  { name: 'murmurhash3js x86.hash32, 30-byte key', loop: loopMurmurhash3js, decision: false, calls: CONTEXTS },
  { name: 'our MurmurHash3 from the prepared "slice:" state, id only (+ position)', loop: loopPrefixHash, decision: false, calls: CONTEXTS },
  { name: 'the handler alone', loop: loopHandler, decision: false, calls: CONTEXTS },
  { name: 'client.route(), sync handler, outcome recorded', loop: loopRoute, decision: true, calls: CONTEXTS },
  { name: 'client.compare(), not sampled (0.01 % shadow)', loop: loopCompare, decision: true, calls: CONTEXTS },
  { name: 'performance.now() alone', loop: loopNow, decision: false, calls: CONTEXTS },
  { name: 'host-like: client.decide(), context built per call, JSON-parsed id, in cache', loop: loopClientHostLike, decision: true, calls: CONTEXTS },
  { name: 'host-like: client.route(), context built per call, JSON-parsed id, in cache', loop: loopRouteHostLike, decision: true, calls: CONTEXTS },
] as const;

// GC events, attributed to the contender whose round they fall in.
const gcTimes: number[] = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcTimes.push(entry.startTime);
});
observer.observe({ entryTypes: ['gc'] });
const flush = () => new Promise((r) => setImmediate(r));

process.stderr.write(`${CONTEXTS.toLocaleString('en-US')} contexts generated; warming up\n`);
for (const c of contenders) c.loop();
await flush();
gcTimes.length = 0;

/** CPU time per call (the process's user + system time over the round): what a call costs, whatever else the shared machine runs. */
const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
/** Wall time per call: inflated by other processes on a shared machine (printed beside). */
const wallSamples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
const windows = new Map<string, [number, number][]>(contenders.map((c) => [c.name, []]));
const sinks = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
  // Alternate the order between rounds so that neither side always runs first.
  const order = round % 2 === 0 ? contenders : [...contenders].reverse();
  for (const c of order) {
    const from = performance.now();
    const cpuFrom = process.cpuUsage();
    const start = process.hrtime.bigint();
    const sink = c.loop();
    const ns = Number(process.hrtime.bigint() - start);
    const cpu = process.cpuUsage(cpuFrom);
    windows.get(c.name)!.push([from, performance.now()]);
    samples.get(c.name)!.push(((cpu.user + cpu.system) * 1_000) / c.calls);
    wallSamples.get(c.name)!.push(ns / c.calls);
    sinks.set(c.name, sink);
    await flush();
  }
}
await flush();
observer.disconnect();
const socketsDuringTiming = socketsOpened - socketsBeforeTiming;

// ---------------------------------------------------------------- agreement (not timed)

let disagreements = 0;
let ourNew = 0;
let theirNew = 0;
const firstDisagreements: string[] = [];
for (let i = 0; i < contexts.length; i++) {
  const ours = core.decide(SLICE, contexts[i]) === 'NEW';
  const theirs = unleash.isEnabled(SLICE, contexts[i]);
  if (ours) ourNew++;
  if (theirs) theirNew++;
  if (ours !== theirs) {
    disagreements++;
    if (firstDisagreements.length < 5) firstDisagreements.push(`${JSON.stringify(contexts[i])}: ours ${ours ? 'NEW' : 'LEGACY'}, unleash ${theirs}`);
  }
}

await client.close();
unleash.destroy();

// ---------------------------------------------------------------- to the parent

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const gcsIn = (name: string) => gcTimes.filter((t) => windows.get(name)!.some(([a, b]) => t >= a && t <= b)).length;
const result: ChildResult = {
  contenders: contenders.map((c) => ({
    name: c.name,
    ns: median(samples.get(c.name)!),
    wallNs: median(wallSamples.get(c.name)!),
    rounds: samples.get(c.name)!,
    gcs: gcsIn(c.name),
    decision: c.decision,
    sink: c.decision ? `${sinks.get(c.name)!.toLocaleString('en-US')} NEW of ${c.calls.toLocaleString('en-US')}` : '-',
  })),
  agreement: { disagreements, ourNew, theirNew, first: firstDisagreements },
  network: { before: socketsBeforeTiming, during: socketsDuringTiming, unleashErrors },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
