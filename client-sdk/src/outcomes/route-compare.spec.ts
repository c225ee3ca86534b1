/**
 * `route`, `recordOutcome` and `compare` of a real client (against the protocol peer), on a clock
 * and a monotonic counter the tests move: what the host gets back, and what the reports carry.
 */
import { createHash } from 'node:crypto';
import type { SwitchyardClient } from '../client.js';
import { LATENCY_SCHEME, latencyBucketOf, type SliceDefinition, type SnapshotDefinition } from '../core/index.js';
import { ClientFactory, snapshotAt } from '../testing/fixtures.js';
import { ManualClock } from '../testing/manual-clock.js';
import { ProtocolServer } from '../testing/protocol-server.js';
import type { MetricsReport } from '../transport/metrics-reporter.js';
import { EXACT_CALLS_PER_REPORT } from './outcome-recorder.js';
import { NOTHING_TO_SHOW } from './path-runner.js';

/** `checkout`: all NEW, compared on every call, watched; `search`: 0 % (staff on NEW), never compared. */
function observedSnapshot(revision = 1, over: Partial<SliceDefinition> = {}): SnapshotDefinition {
  const base = snapshotAt(revision);
  return { ...base, slices: [{ ...base.slices[0]!, shadowBasisPoints: 10_000, watched: true, ...over }, base.slices[1]!] };
}

const alice = { userId: 'alice' };
const bob = { userId: 'bob' };
const flush = () => new Promise((resolve) => setImmediate(resolve));
const fail = (): never => {
  throw new Error('handler failed');
};

describe('route, recordOutcome and compare', () => {
  let server: ProtocolServer;
  const clients = new ClientFactory();
  let clock: ManualClock;
  /** The monotonic clock the client measures with: handlers move it. */
  let t: number;
  let client: SwitchyardClient;

  async function start(options: Parameters<ClientFactory['create']>[1] = {}, random = 0.5): Promise<void> {
    client = await clients.create(server.url, { metricsIntervalMs: 600_000, ...options }, { clock, random: () => random, monotonic: () => t });
  }
  /** Closes the client and returns its final report (it carries everything not yet reported). */
  async function finalReport(): Promise<MetricsReport> {
    await client.close();
    return server.reports.at(-1) as MetricsReport;
  }
  const bucket = (ms: number) => latencyBucketOf(ms);

  beforeEach(async () => {
    server = await ProtocolServer.start(observedSnapshot());
    clock = new ManualClock();
    t = 1_000;
  });
  afterEach(async () => {
    await clients.closeAll();
    await server.stop();
  });

  describe('route', () => {
    it('returns what the handler returned and measures it, per path', async () => {
      await start();
      const result = { provider: 'new' };
      expect(client.route<{ provider: string } | string>('checkout', bob, { legacy: () => 'legacy', next: () => ((t += 5), result) })).toBe(result);
      expect(client.route('search', bob, { legacy: () => ((t += 0.25), 'legacy'), next: () => 'new' })).toBe('legacy');
      const report = await finalReport();
      expect(report.outcomes).toEqual({
        checkout: { NEW: { calls: 1, failures: 0, latency: { scheme: LATENCY_SCHEME, buckets: [[bucket(5), 1]] } } },
        search: { LEGACY: { calls: 1, failures: 0, latency: { scheme: LATENCY_SCHEME, buckets: [[bucket(0.25), 1]] } } },
      });
      // route still counts the decision, as before
      expect(report.bucket.slices.checkout).toEqual({ NEW: 1, LEGACY: 0 });
    });

    it('lets the very error a handler throws through, and counts the call as failed', async () => {
      await start();
      const error = new Error('boom');
      let caught: unknown;
      try {
        client.route('checkout', bob, {
          legacy: () => 'legacy',
          next: () => {
            t += 2;
            throw error;
          },
        });
      } catch (e) {
        caught = e;
      }
      expect(caught).toBe(error);
      expect((await finalReport()).outcomes!.checkout!.NEW).toEqual({ calls: 1, failures: 1, latency: { scheme: LATENCY_SCHEME, buckets: [[bucket(2), 1]] } });
    });

    it('returns the same promise object, measures until it settles, and lets the very rejection through', async () => {
      await start();
      let resolve!: (value: string) => void;
      const resolving = new Promise<string>((r) => (resolve = r));
      expect(client.route('checkout', bob, { legacy: () => Promise.resolve('legacy'), next: () => resolving })).toBe(resolving);
      t += 40;
      resolve('done');
      await expect(resolving).resolves.toBe('done');

      const failure = new Error('rejected');
      const rejecting = Promise.reject(failure);
      const returned = client.route('checkout', bob, { legacy: () => Promise.resolve('legacy'), next: () => rejecting });
      expect(returned).toBe(rejecting);
      await expect(returned).rejects.toBe(failure);
      // That the side branch never adds an unhandled rejection cannot be observed here (Jest keeps
      // process 'unhandledRejection' events from tests); path-runner.ts `follow` is why: both
      // callbacks of its `then` catch everything, so the promise it derives never rejects.
      const report = await finalReport();
      expect(report.outcomes!.checkout!.NEW).toMatchObject({ calls: 2, failures: 1 });
      expect(report.outcomes!.checkout!.NEW!.latency.buckets).toContainEqual([bucket(40), 1]);
    });

    it('counts a result the classifier calls a failure: the client option, overridden per call', async () => {
      await start({ isFailure: (r) => (r as { status: number }).status >= 500 });
      const handlers = (status: number) => ({ legacy: () => ({ status }), next: () => ({ status }) });
      client.route('checkout', bob, handlers(503));
      client.route('checkout', bob, handlers(200));
      client.route('checkout', bob, handlers(404), { isFailure: (r) => r.status >= 400 });
      await client.route('checkout', bob, { legacy: () => Promise.resolve({ status: 500 }), next: () => Promise.resolve({ status: 500 }) });
      expect((await finalReport()).outcomes!.checkout!.NEW).toMatchObject({ calls: 4, failures: 3 });
    });

    it('counts a call as a success when the classifier throws, tells onError once, and the caller gets its result', async () => {
      await start({
        isFailure: () => {
          throw new Error('classifier bug');
        },
      });
      for (let i = 0; i < 3; i++) expect(client.route('checkout', bob, { legacy: () => 1, next: () => 2 })).toBe(2);
      const hookErrors = clients.errors.filter((e) => e.code === 'HOOK_FAILED');
      expect(hookErrors).toHaveLength(1);
      expect(hookErrors[0]!.operation).toBe('outcomes');
      expect((await finalReport()).outcomes!.checkout!.NEW).toMatchObject({ calls: 3, failures: 0 });
    });
  });

  it('times every call of a quiet path and a random sample of a busy one, and counts every call in the histogram', async () => {
    let readings = 0;
    // random() = 0.5: beyond the exact calls, the gap to the next timed call is 1 + floor(ln 0.5 / ln(15/16)) = 11.
    client = await clients.create(server.url, { metricsIntervalMs: 600_000 }, { clock, random: () => 0.5, monotonic: () => (readings++, t) });
    const handlers = { legacy: () => 1, next: () => ((t += 3), 2) };
    for (let i = 0; i < EXACT_CALLS_PER_REPORT; i++) client.route('checkout', bob, handlers);
    expect(readings).toBe(2 * EXACT_CALLS_PER_REPORT);
    readings = 0;
    for (let i = 0; i < 110; i++) client.route('checkout', bob, handlers);
    expect(readings).toBe(2 * 10);
    // A call that throws and is not timed is still counted, as a failure.
    const failing = { legacy: () => 1, next: (): number => ((t += 3), fail()) };
    for (let i = 0; i < 5; i++) expect(() => client.route('checkout', bob, failing)).toThrow('handler failed');
    const figures = (await finalReport()).outcomes!.checkout!.NEW!;
    expect(figures).toMatchObject({ calls: EXACT_CALLS_PER_REPORT + 115, failures: 5 });
    expect(figures.latency.buckets).toEqual([[bucket(3), EXACT_CALLS_PER_REPORT + 115]]);
  });

  it('with metrics: false (nothing would be sent), only calls the decided handler: no clock reading, no other path', async () => {
    let readings = 0;
    client = await clients.create(server.url, { metrics: false }, { clock, random: () => 0.5, monotonic: () => ++readings });
    expect(client.route('checkout', bob, { legacy: () => 1, next: () => 2 })).toBe(2);
    let other = 0;
    expect(client.compare('checkout', bob, { legacy: () => ++other, next: () => 2 })).toBe(2);
    await flush();
    expect([readings, other]).toEqual([0, 0]);
  });

  describe('recordOutcome', () => {
    it('records what the host measured, ignores what is not an outcome, and never throws', async () => {
      await start();
      client.recordOutcome('checkout', 'LEGACY', { ok: false, durationMs: 12 });
      client.recordOutcome('checkout', 'LEGACY', { ok: true, durationMs: 12 });
      for (const bad of [null, {}, { ok: 'yes', durationMs: 1 }, { ok: true }, { ok: true, durationMs: '1' }]) client.recordOutcome('checkout', 'LEGACY', bad as never);
      client.recordOutcome('checkout', 'SIDEWAYS' as never, { ok: true, durationMs: 1 });
      const hostile = Object.defineProperty({}, 'ok', {
        get() {
          throw new Error('getter');
        },
      });
      expect(() => client.recordOutcome('checkout', 'NEW', hostile as never)).not.toThrow();
      const report = await finalReport();
      expect(report.outcomes).toEqual({ checkout: { LEGACY: { calls: 2, failures: 1, latency: { scheme: LATENCY_SCHEME, buckets: [[bucket(12), 2]] } } } });
      expect(report.bucket.slices).toEqual({}); // not a decision
    });
  });

  describe('compare', () => {
    it('on a slice at 0 % shadow, serves the decided path only', async () => {
      await start();
      let legacyCalls = 0;
      expect(
        client.compare('search', bob, {
          legacy: () => (legacyCalls++, 'legacy'),
          next: () => {
            throw new Error('the other path ran');
          },
        }),
      ).toBe('legacy');
      await flush();
      expect(legacyCalls).toBe(1);
      const report = await finalReport();
      expect(report.comparisons).toBeUndefined();
      expect(report.outcomes!.search!.LEGACY!.calls).toBe(1);
    });

    it('samples by the slice shadow share: a draw per call', async () => {
      server.snapshot = observedSnapshot(1, { shadowBasisPoints: 2_500 });
      await start({}, 0.3); // 0.3 × 10000 = 3000 ≥ 2500: not sampled
      let other = 0;
      client.compare('checkout', bob, { legacy: () => (other++, 1), next: () => 1 });
      await flush();
      expect(other).toBe(0);
      await client.close();
      await start({}, 0.2); // 2000 < 2500: sampled
      client.compare('checkout', bob, { legacy: () => (other++, 1), next: () => 1 });
      await flush();
      expect(other).toBe(1);
    });

    it('at 100 %, runs the other path after the served one returned, compares, and counts', async () => {
      await start();
      const order: string[] = [];
      const served = client.compare('checkout', alice, { legacy: () => (order.push('legacy'), { n: 1 }), next: () => (order.push('next'), { n: 1 }) });
      order.push('returned');
      expect(served).toEqual({ n: 1 });
      await flush();
      expect(order).toEqual(['next', 'returned', 'legacy']);
      client.compare('checkout', alice, { legacy: () => ({ n: 1 }), next: () => ({ n: 2 }) });
      await flush();
      const report = await finalReport();
      expect(report.comparisons!.checkout).toMatchObject({ compared: 2, mismatches: 1, otherFailures: 0, timeouts: 0 });
      const [sample] = report.comparisons!.checkout!.samples;
      expect(sample).toEqual({
        at: clock.now().toISOString(),
        served: 'NEW',
        subject: createHash('sha256').update('checkout\nalice').digest('hex').slice(0, 16),
        diff: '$.n: 1 ≠ 2',
      });
      // Only the served path's outcome is recorded: the other served no one.
      expect(report.outcomes!.checkout).toEqual({ NEW: expect.objectContaining({ calls: 2 }) });
    });

    it('runs a promise path concurrently, returns the served promise itself, and compares once both settle', async () => {
      await start();
      let resolveServed!: (v: number[]) => void;
      const servedPromise = new Promise<number[]>((r) => (resolveServed = r));
      let otherStarted = false;
      const returned = client.compare('checkout', bob, {
        legacy: () => {
          otherStarted = true;
          return Promise.resolve([1, 2]);
        },
        next: () => servedPromise,
      });
      expect(returned).toBe(servedPromise);
      await flush();
      expect(otherStarted).toBe(true); // before the served one settled
      resolveServed([1, 3]);
      await returned;
      await flush();
      expect((await finalReport()).comparisons!.checkout).toMatchObject({ compared: 1, mismatches: 1, samples: [expect.objectContaining({ diff: '$[1]: 2 ≠ 3' })] });
    });

    it('counts the other path failing or timing out, never throws it, and compares nothing when the served path fails', async () => {
      await start();
      client.compare('checkout', bob, {
        legacy: () => {
          throw new Error('other threw');
        },
        next: () => 1,
      });
      const other = client.compare('checkout', bob, { legacy: () => Promise.reject(new Error('other rejected')), next: () => Promise.resolve(1) });
      await expect(other).resolves.toBe(1);
      void client.compare<number | Promise<number>, number>('checkout', bob, { legacy: () => new Promise<number>(() => undefined), next: () => 1, timeoutMs: 250 });
      await flush();
      await clock.advance(249);
      await flush();
      await clock.advance(1);
      // The served path failing: propagated, nothing compared (the other path does not even run when it threw).
      let otherRan = false;
      expect(() =>
        client.compare('checkout', bob, {
          legacy: () => ((otherRan = true), 1),
          next: () => {
            throw new Error('served threw');
          },
        }),
      ).toThrow('served threw');
      await expect(client.compare('checkout', bob, { legacy: () => Promise.resolve(1), next: () => Promise.reject(new Error('served rejected')) })).rejects.toThrow(
        'served rejected',
      );
      await flush();
      expect(otherRan).toBe(false);
      expect((await finalReport()).comparisons!.checkout).toEqual({ compared: 0, mismatches: 0, otherFailures: 2, timeouts: 1, samples: [] });
    });

    it('compares after normalize, or with the host equal; a throwing hook drops that comparison', async () => {
      await start();
      const normalize = (r: { at: number; items: number[] }) => ({ items: [...r.items].sort() });
      client.compare('checkout', bob, { legacy: () => ({ at: 1, items: [2, 1] }), next: () => ({ at: 2, items: [1, 2] }), normalize });
      client.compare('checkout', bob, { legacy: () => 10, next: () => 10.4, equal: (a, b) => Math.round(a) === Math.round(b) });
      client.compare('checkout', bob, {
        legacy: () => 1,
        next: () => 2,
        equal: () => {
          throw new Error('equal bug');
        },
      });
      await flush();
      expect((await finalReport()).comparisons!.checkout).toMatchObject({ compared: 2, mismatches: 0 });
      expect(clients.errors.filter((e) => e.code === 'HOOK_FAILED').map((e) => e.message)).toEqual([expect.stringContaining('equal')]);
    });

    it('builds the diff from what redact returns only (the call one over the client one), cut to 4,096 characters', async () => {
      await start({ redact: () => 'client redact' });
      const legacy = { iban: 'KE00 1111', balance: 100, notes: 'a'.repeat(10_000), rows: Array.from({ length: 500 }, (_, i) => i) };
      const next = { iban: 'KE00 2222', balance: 101, notes: 'b'.repeat(10_000), rows: Array.from({ length: 500 }, (_, i) => -i) };
      client.compare('checkout', bob, {
        legacy: () => legacy,
        next: () => next,
        redact: (value) => ({ ...(value as typeof legacy), iban: '***' }),
      });
      client.compare('checkout', bob, { legacy: () => ({ secret: 1 }), next: () => ({ secret: 2 }) });
      await flush();
      const [first, second] = (await finalReport()).comparisons!.checkout!.samples;
      expect(first!.diff).not.toContain('KE00');
      expect(first!.diff).toContain('$.balance: 100 ≠ 101');
      expect(first!.diff.length).toBeLessThanOrEqual(4_096);
      // The client's redact made both the same: the mismatch is counted, the diff shows nothing of them.
      expect(second!.diff).toBe(NOTHING_TO_SHOW);
    });
  });
});
