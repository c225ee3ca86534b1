/**
 * A worker of propagation.bench.ts (forked; talks over IPC): holds `count` streaming SDK clients
 * and reports, for each, the wall-clock time at which its decision for its own subject became the
 * expected path. Detection: the client's onChange (called once a new revision is in use), then
 * `decide`: no polling loop, so the workers do not steal the CPU the service needs.
 */
import { createClient, type SwitchyardClient } from '@switchyard/client-sdk';
import { performance, PerformanceObserver } from 'node:perf_hooks';

export type ToWorker =
  | { type: 'start'; urls: string[]; token: string; count: number; offset: number; slice: string }
  | { type: 'arm'; round: number; expect: 'NEW' | 'LEGACY'; timeoutMs: number }
  | { type: 'close' };

export type FromWorker =
  | { type: 'ready'; clients: number; onNew: number; streaming: number; errors: number; connectMs: number; heapMiB: number }
  | { type: 'armed'; round: number }
  | { type: 'observed'; round: number; times: number[]; missing: number; gcMs: number }
  | { type: 'closed' };

/** Wall clock with sub-millisecond resolution, comparable across processes of one machine. */
const wallNow = () => performance.timeOrigin + performance.now();

interface Watched {
  readonly client: SwitchyardClient;
  readonly context: { userId: string };
}

const watched: Watched[] = [];
let slice = '';
let errors = 0;
let armed: { round: number; expect: 'NEW' | 'LEGACY'; times: number[]; pending: number; timer: NodeJS.Timeout; gcAtArm: number } | null = null;

/** Time this process spent in garbage collection (all kinds), from V8's gc performance entries. */
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

function send(message: FromWorker): void {
  process.send!(message);
}

function check(index: number): void {
  const a = armed;
  if (a === null || a.times[index] !== -1) return;
  const w = watched[index]!;
  if (w.client.decide(slice, w.context) !== a.expect) return;
  a.times[index] = wallNow();
  if (--a.pending === 0) report();
}

function report(): void {
  const a = armed;
  if (a === null) return;
  armed = null;
  clearTimeout(a.timer);
  const times = a.times.filter((t) => t !== -1);
  send({ type: 'observed', round: a.round, times, missing: a.times.length - times.length, gcMs: gcMs - a.gcAtArm });
}

async function start(msg: Extract<ToWorker, { type: 'start' }>): Promise<void> {
  slice = msg.slice;
  const begin = performance.now();
  // A few at a time, as a fleet of hosts would come up, not 250 handshakes in the same tick.
  const BATCH = 25;
  for (let i = 0; i < msg.count; i += BATCH) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(BATCH, msg.count - i) }, (_, j) =>
        // Spread over the instances (one, or A and B alternately).
        createClient({ url: msg.urls[(i + j) % msg.urls.length]!, token: msg.token, appName: 'bench-propagation', initTimeoutMs: 10_000, onError: () => errors++ }),
      ),
    );
    for (const client of batch) {
      const index = watched.length;
      watched.push({ client, context: { userId: `subject-${msg.offset + index}` } });
      client.onChange(() => check(index));
    }
  }
  const onNew = watched.filter((w) => w.client.decide(slice, w.context) === 'NEW').length;
  const streaming = watched.filter((w) => w.client.status().state === 'streaming').length;
  send({ type: 'ready', clients: watched.length, onNew, streaming, errors, connectMs: performance.now() - begin, heapMiB: process.memoryUsage().heapUsed / 2 ** 20 });
}

process.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'start':
      start(msg).catch((error: unknown) => {
        process.stderr.write(`worker failed to start: ${String(error)}\n`);
        process.exit(1);
      });
      return;
    case 'arm': {
      armed = {
        round: msg.round,
        expect: msg.expect,
        times: watched.map(() => -1),
        pending: watched.length,
        timer: setTimeout(report, msg.timeoutMs),
        gcAtArm: gcMs,
      };
      send({ type: 'armed', round: msg.round });
      // A client that already decides as expected (it should not) counts at once.
      for (let i = 0; i < watched.length; i++) check(i);
      return;
    }
    case 'close':
      void Promise.all(watched.map((w) => w.client.close())).then(() => {
        send({ type: 'closed' });
        process.exit(0);
      });
      return;
  }
});
// The parent gone means the bench is over: do not linger.
process.on('disconnect', () => process.exit(0));
