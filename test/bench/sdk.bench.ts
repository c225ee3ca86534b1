/**
 * npm run bench:sdk
 *
 * The cost of one local decision, side by side in the same process over the same 1,000,000
 * pre-generated contexts:
 *  - our SDK's `client.decide(slice, context)` (createClient with a bootstrap snapshot, no service);
 *  - the decision core alone, `compileSnapshot(def).decide(...)` (what the client wraps);
 *  - the official Unleash Node SDK's `isEnabled(toggle, context)` (unleash-client, bootstrapped
 *    with the equivalent toggle, no server, no metrics);
 *  - for scale: `murmurhash3js` alone on a 30-byte key, and our prefix-resuming hash on the id only.
 * The configuration: one slice whose only rule sends segment `country IN [KE, GH]` to 25 % (the
 * slice's own rollout is 0 %), stickiness userId; in Unleash, a flexibleRollout strategy at 25 %
 * with groupId = slice key, stickiness userId and the constraint country IN [KE, GH]. Half the
 * contexts are in KE or GH. Both SDKs get the very same context objects ({ userId, country }: Unleash
 * reads a custom field from the top level of the context before `properties`).
 * Also prints how often the two agree (must be 100 %: whole percent, ASCII ids).
 * Prints figures; asserts nothing. BENCH_CONTEXTS=1000000 BENCH_ROUNDS=5
 */
import { createClient, type SnapshotDefinition } from '@switchyard/client-sdk';
import { compileSnapshot, positionWithPrefix, prepareHashPrefix } from '@switchyard/client-sdk/core';
import { subscribe } from 'node:diagnostics_channel';
import { cpus } from 'node:os';
import { PerformanceObserver, performance } from 'node:perf_hooks';
import murmurhash3js from 'murmurhash3js';
import { InMemStorageProvider, Unleash } from 'unleash-client';

const CONTEXTS = Number(process.env.BENCH_CONTEXTS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SLICE = 'payments.provider.mpesa';
const UNLEASH_REFERENCE_NS = 2000;
const TARGET_RATIO = 20;
const TARGET_NS = 100;

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

const contenders = [
  { name: 'Switchyard SDK client.decide()', loop: loopClient, decision: true, calls: CONTEXTS },
  { name: 'Switchyard SDK client.decide(), KE/GH contexts only (every call hashes)', loop: loopClientHashing, decision: true, calls: hashing.length },
  { name: 'Switchyard core compiled.decide()', loop: loopCore, decision: true, calls: CONTEXTS },
  { name: 'unleash-client isEnabled()', loop: loopUnleash, decision: true, calls: CONTEXTS },
  { name: 'murmurhash3js x86.hash32, 30-byte key', loop: loopMurmurhash3js, decision: false, calls: CONTEXTS },
  { name: 'our MurmurHash3 from the prepared "slice:" state, id only (+ position)', loop: loopPrefixHash, decision: false, calls: CONTEXTS },
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

const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
const windows = new Map<string, [number, number][]>(contenders.map((c) => [c.name, []]));
const sinks = new Map<string, number>();
for (let round = 0; round < ROUNDS; round++) {
  process.stderr.write(`round ${round + 1}/${ROUNDS}\n`);
  // Alternate the order between rounds so that neither side always runs first.
  const order = round % 2 === 0 ? contenders : [...contenders].reverse();
  for (const c of order) {
    const from = performance.now();
    const start = process.hrtime.bigint();
    const sink = c.loop();
    const ns = Number(process.hrtime.bigint() - start);
    windows.get(c.name)!.push([from, performance.now()]);
    samples.get(c.name)!.push(ns / c.calls);
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

// ---------------------------------------------------------------- report

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const unleashNs = median(samples.get('unleash-client isEnabled()')!);
const gcsIn = (name: string) => gcTimes.filter((t) => windows.get(name)!.some(([a, b]) => t >= a && t <= b)).length;

console.log(
  `\nDecision cost per call, ${CONTEXTS.toLocaleString('en-US')} contexts per round, ${ROUNDS} rounds (alternating order), median of rounds. ` +
    `Node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), shared.`,
);
console.log(
  `Slice "${SLICE}": its only rule sends segment country IN [KE, GH] to 25 % (0 % otherwise); stickiness userId. Unleash: flexibleRollout 25 %, groupId = slice key, same constraint.`,
);
console.table(
  Object.fromEntries(
    contenders.map((c) => {
      const xs = samples.get(c.name)!;
      const ns = median(xs);
      return [
        c.name,
        {
          'ns/call (median)': ns.toFixed(1),
          'min..max of rounds': `${Math.min(...xs).toFixed(1)}..${Math.max(...xs).toFixed(1)}`,
          'calls/s': Math.round(1e9 / ns).toLocaleString('en-US'),
          'x faster than unleash-client (this run)': c.decision ? (unleashNs / ns).toFixed(1) : '-',
          'GCs during rounds': gcsIn(c.name),
          'NEW / enabled': c.decision ? `${sinks.get(c.name)!.toLocaleString('en-US')} of ${c.calls.toLocaleString('en-US')}` : '-',
        },
      ];
    }),
  ),
);
const sdkNs = median(samples.get('Switchyard SDK client.decide()')!);
console.table({
  'SDK client.decide() vs targets': {
    'ns/call': sdkNs.toFixed(1),
    [`target <= ~${TARGET_NS} ns`]: sdkNs <= TARGET_NS ? 'met' : 'MISSED',
    [`vs unleash-client in this run (${unleashNs.toFixed(0)} ns)`]: `${(unleashNs / sdkNs).toFixed(1)}x`,
    [`vs the reference ${UNLEASH_REFERENCE_NS} ns`]: `${(UNLEASH_REFERENCE_NS / sdkNs).toFixed(1)}x`,
    [`target >= ${TARGET_RATIO}x`]: unleashNs / sdkNs >= TARGET_RATIO ? 'met' : 'MISSED',
  },
});
console.log(
  `\nAgreement over the ${CONTEXTS.toLocaleString('en-US')} contexts: ${(((CONTEXTS - disagreements) / CONTEXTS) * 100).toFixed(4)} % ` +
    `(${disagreements} disagreements; NEW: ours ${ourNew.toLocaleString('en-US')}, unleash ${theirNew.toLocaleString('en-US')}).`,
);
for (const line of firstDisagreements) console.log(`  ${line}`);
console.log(
  `Network: ${socketsDuringTiming} connections or fetches started during timing and agreement, ${socketsBeforeTiming} before ` +
    `(our client polls http://127.0.0.1:9, which fetch refuses before connecting: port 9 is on its bad-port list); unleash-client errors: ${unleashErrors}.`,
);
