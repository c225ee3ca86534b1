/**
 * Shared set-up of the delivery benchmarks: a realistic migration's configuration, an SDK token,
 * small helpers. Everything goes through the public API (GraphQL, /sdk/v1/*), as a user would.
 */
import { readFileSync } from 'node:fs';
import { type ClientRequest, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { type BenchServer, graphql } from './bench-server.js';

export const COUNTRIES = ['KE', 'GH', 'NG', 'UG', 'TZ', 'ZA', 'RW', 'EG', 'MA', 'SN', 'CI', 'ET'] as const;

/** What a real migration has: 200 slices, 20 small segments, one of them a list of 1,000 accounts. */
export const REALISTIC = { slices: 200, segments: 20, listIds: 1000 } as const;

interface ConstraintInput {
  attribute: string;
  operator: string;
  values: string[];
  caseInsensitive?: boolean;
}

function realisticSegments(): { key: string; constraints: ConstraintInput[] }[] {
  const segments: { key: string; constraints: ConstraintInput[] }[] = [
    { key: 'staff', constraints: [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@switchyard.example'], caseInsensitive: true }] },
    {
      key: 'salary-run-accounts',
      constraints: [{ attribute: 'accountId', operator: 'IN', values: Array.from({ length: REALISTIC.listIds }, (_, i) => `acct-${String(i + 1).padStart(6, '0')}`) }],
    },
    { key: 'east-africa', constraints: [{ attribute: 'country', operator: 'IN', values: ['KE', 'UG', 'TZ', 'RW', 'ET'] }] },
    { key: 'app-v2', constraints: [{ attribute: 'appVersion', operator: 'SEMVER_GTE', values: ['2.0.0'] }] },
    { key: 'android', constraints: [{ attribute: 'platform', operator: 'IN', values: ['android'] }] },
    { key: 'beta-testers', constraints: [{ attribute: 'userId', operator: 'IN', values: Array.from({ length: 50 }, (_, i) => `beta-${i}`) }] },
    { key: 'big-merchants', constraints: [{ attribute: 'monthlyVolume', operator: 'NUM_GT', values: ['1000000'] }] },
    { key: 'after-launch', constraints: [{ attribute: 'currentTime', operator: 'DATE_AFTER', values: ['2026-01-01T00:00:00Z'] }] },
  ];
  for (const country of COUNTRIES) {
    segments.push({ key: `country-${country.toLowerCase()}`, constraints: [{ attribute: 'country', operator: 'IN', values: [country] }] });
  }
  return segments; // 8 + 12 = 20
}

const PERCENTS = [0, 0.25, 1, 5, 10, 25, 50, 75, 100];

function realisticSlices(segmentKeys: readonly string[]): { key: string; percent: number; stickinessAttribute: string; targeting: unknown }[] {
  const countries = segmentKeys.filter((k) => k.startsWith('country-'));
  const others = segmentKeys.filter((k) => !k.startsWith('country-') && k !== 'staff' && k !== 'salary-run-accounts');
  return Array.from({ length: REALISTIC.slices }, (_, i) => {
    const key = i < 150 ? `api.route-${String(i).padStart(3, '0')}` : i < 180 ? `payments.provider.p${i - 150}` : `jobs.batch-${i - 180}`;
    const rules: { segments: string[]; percent: number }[] = [];
    if (i % 2 === 0) rules.push({ segments: [countries[i % countries.length]!], percent: 20 });
    if (i % 3 === 0) rules.push({ segments: [others[i % others.length]!, 'app-v2'], percent: 50 });
    return {
      key,
      percent: PERCENTS[i % PERCENTS.length]!,
      stickinessAttribute: i >= 150 && i < 180 ? 'accountId' : 'userId',
      targeting: {
        exclude: i % 2 === 0 ? ['salary-run-accounts'] : [],
        include: i % 3 === 0 ? ['staff'] : [],
        rules,
      },
    };
  });
}

/** Creates the realistic configuration (setup, not measured), a few requests at a time. */
export async function seedRealisticConfiguration(server: BenchServer): Promise<void> {
  const segments = realisticSegments();
  await inBatches(segments, 10, (s) =>
    graphql(server, 'mutation($key: String!, $c: [ConstraintInput!]!) { createSegment(key: $key, constraints: $c) { key } }', { key: s.key, c: s.constraints }),
  );
  await inBatches(realisticSlices(segments.map((s) => s.key)), 10, (s) =>
    graphql(
      server,
      'mutation($key: String!, $p: Float!, $st: String!, $t: TargetingInput) { createSlice(key: $key, percent: $p, stickinessAttribute: $st, targeting: $t) { key } }',
      { key: s.key, p: s.percent, st: s.stickinessAttribute, t: s.targeting },
    ),
  );
}

/** A new token of role SDK; returns its bearer secret. */
export async function createSdkToken(server: BenchServer, name = `bench-sdk-${Date.now()}`): Promise<string> {
  const data = await graphql<{ createToken: { secret: string } }>(server, 'mutation($name: String!) { createToken(name: $name, role: SDK) { secret } }', { name });
  return data.createToken.secret;
}

/** The current snapshot as served: its ETag, its size in bytes, its revision and its JSON. */
export async function fetchSnapshot(server: BenchServer, token: string): Promise<{ etag: string; bytes: number; revision: number; json: unknown; body: Buffer }> {
  const res = await fetch(`${server.baseUrl}/sdk/v1/snapshot`, { headers: { authorization: `Bearer ${token}` } });
  if (res.status !== 200) throw new Error(`GET /sdk/v1/snapshot answered ${res.status}: ${await res.text()}`);
  const body = Buffer.from(await res.arrayBuffer());
  const json = JSON.parse(body.toString('utf8')) as { revision: number };
  return { etag: res.headers.get('etag') ?? '', bytes: body.length, revision: json.revision, json, body };
}

/** Resident set size of a process, in MiB (Linux: /proc/<pid>/status VmRSS). */
export function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

/** CPU time (user + system) a process has used so far, in ms (Linux: /proc/<pid>/stat). */
export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[11] = utime, fields[12] = stime (fields 14 and 15 of stat(5)), in clock ticks (100/s on Linux).
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

async function inBatches<T>(items: readonly T[], size: number, run: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(run));
}

export const fmt = {
  ms: (n: number) => `${n.toFixed(n < 10 ? 2 : 1)} ms`,
  int: (n: number) => Math.round(n).toLocaleString('en-US'),
  kib: (n: number) => `${(n / 1024).toFixed(1)} KiB`,
  mib: (n: number) => `${n.toFixed(1)} MiB`,
};

/**
 * A raw SSE connection to /sdk/v1/stream?delta=1 (as the SDK opens it) that notes when each complete
 * `snapshot` or `delta` event arrives (wall clock, comparable across processes): separates the service's part of a propagation delay
 * from the SDK clients' part. `waitFor(revision)` resolves with the arrival time of that revision.
 */
export class StreamProbe {
  private readonly arrivals = new Map<number, number>();
  private readonly waiters = new Map<number, (at: number) => void>();
  private request: ClientRequest | null = null;

  static async open(server: BenchServer, token: string, lastEventId: number): Promise<StreamProbe> {
    const probe = new StreamProbe();
    await new Promise<void>((resolveOpen, reject) => {
      const req = request(
        `${server.baseUrl}/sdk/v1/stream?delta=1`,
        { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'last-event-id': String(lastEventId) } },
        (res) => {
          if (res.statusCode !== 200) return reject(new Error(`stream answered ${res.statusCode}`));
          res.setEncoding('utf8');
          let buffer = '';
          res.on('data', (chunk: string) => {
            buffer += chunk;
            let end: number;
            while ((end = buffer.indexOf('\n\n')) !== -1) {
              const event = buffer.slice(0, end);
              buffer = buffer.slice(end + 2);
              if (!/^event: (snapshot|delta)$/m.test(event)) continue;
              const id = /^id: (\d+)$/m.exec(event);
              if (id) probe.arrived(Number(id[1]));
            }
          });
          res.on('error', () => undefined);
          resolveOpen();
        },
      );
      req.on('error', reject);
      req.end();
      probe.request = req;
    });
    return probe;
  }

  private arrived(revision: number): void {
    const at = performance.timeOrigin + performance.now();
    this.arrivals.set(revision, at);
    for (const [wanted, wake] of this.waiters) {
      if (revision >= wanted) {
        this.waiters.delete(wanted);
        wake(at);
      }
    }
  }

  /** The arrival time of the first snapshot or delta event at or above `revision` (waits up to timeoutMs; NaN if none). */
  waitFor(revision: number, timeoutMs = 15_000): Promise<number> {
    for (const [r, at] of this.arrivals) if (r >= revision) return Promise.resolve(at);
    return new Promise((resolveWait) => {
      const timer = setTimeout(() => {
        this.waiters.delete(revision);
        resolveWait(NaN);
      }, timeoutMs);
      this.waiters.set(revision, (at) => {
        clearTimeout(timer);
        resolveWait(at);
      });
    });
  }

  close(): void {
    this.request?.destroy();
  }
}
