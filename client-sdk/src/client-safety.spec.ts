/**
 * What the host sees without a working service: bootstrap and backup starts, decisions that never
 * throw whatever they are given, counters, option checks.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, type SwitchyardClient } from './client.js';
import type { EvaluationContext, SnapshotDefinition } from './core/index.js';
import type { SnapshotStore } from './ports/storage.js';
import { ClientFactory, snapshotAt } from './testing/fixtures.js';
import { ProtocolServer } from './testing/protocol-server.js';
import { nextChange, waitFor } from './testing/wait-for.js';
import { SDK_VERSION } from './version.js';

const alice = { userId: 'alice' };

describe('SwitchyardClient without the service', () => {
  let dir: string;
  let downUrl: string;
  const clients = new ClientFactory();

  beforeAll(async () => {
    const peer = await ProtocolServer.start(snapshotAt(1));
    downUrl = peer.url; // nothing listens there once stopped: connection refused
    await peer.stop();
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-client-'));
  });
  afterEach(async () => {
    await clients.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  const down = (options: Parameters<ClientFactory['create']>[1] = {}): Promise<SwitchyardClient> => clients.create(downUrl, { initTimeoutMs: 50, ...options });

  describe('start', () => {
    it('answers from a bootstrap object, and from a copy of it', async () => {
      const bootstrap = JSON.parse(JSON.stringify(snapshotAt(3, 10_000))) as { slices: { basisPoints: number }[] };
      const client = await down({ bootstrap: bootstrap as unknown as SnapshotDefinition });
      (bootstrap.slices[0] as { basisPoints: number }).basisPoints = 0;
      expect(client.status()).toMatchObject({ source: 'bootstrap', revision: 3, connected: false });
      expect(client.decide('checkout', alice)).toBe('NEW');
      expect(client.explain('checkout', alice)).toEqual({ path: 'NEW', reason: 'ROLLOUT' });
    });

    it('answers from a bootstrap file', async () => {
      const file = join(dir, 'bootstrap.json');
      await writeFile(file, JSON.stringify(snapshotAt(4)));
      const client = await down({ bootstrap: { file } });
      expect(client.status()).toMatchObject({ source: 'bootstrap', revision: 4 });
      expect(client.decide('checkout', alice)).toBe('NEW');
    });

    it('reports an unusable bootstrap and falls back to the backup file', async () => {
      const backupFile = join(dir, 'backup.json');
      await writeFile(backupFile, JSON.stringify(snapshotAt(7)));
      const client = await down({ bootstrap: { file: join(dir, 'missing.json') }, backupFile });
      expect(client.status()).toMatchObject({ source: 'backup', revision: 7 });
      expect(clients.codes()).toContain('BOOTSTRAP_FAILED');

      const shapeless = await down({ bootstrap: { revision: 1, slices: 'x' } as unknown as SnapshotDefinition });
      expect(shapeless.status()).toMatchObject({ source: 'none', revision: null });
      expect(clients.codes().filter((c) => c === 'BOOTSTRAP_FAILED')).toHaveLength(2);
    });

    it('starts from whichever of bootstrap and backup file is newer (an older bootstrap must not undo a rollback)', async () => {
      const backupFile = join(dir, 'backup.json');
      await writeFile(backupFile, JSON.stringify(snapshotAt(9)));
      const older = await down({ bootstrap: snapshotAt(2), backupFile });
      expect(older.status()).toMatchObject({ source: 'backup', revision: 9 });
      const newer = await down({ bootstrap: snapshotAt(12), backupFile });
      expect(newer.status()).toMatchObject({ source: 'bootstrap', revision: 12 });
    });

    it('starts from the backup file with the service down (a host restarted during an outage)', async () => {
      const backupFile = join(dir, 'backup.json');
      await writeFile(backupFile, JSON.stringify(snapshotAt(8, 0)));
      const client = await down({ backupFile });
      expect(client.status()).toMatchObject({ source: 'backup', revision: 8, state: 'connecting', connected: false });
      expect(client.decide('checkout', alice)).toBe('LEGACY');
      expect(client.decide('search', alice)).toBe('NEW');
    });

    it('reports and ignores a corrupt backup file', async () => {
      for (const content of ['{"revision": 8, "slices": [', '{"revision": "8", "slices": [], "segments": []}', '']) {
        const backupFile = join(dir, `corrupt-${content.length}.json`);
        await writeFile(backupFile, content);
        const client = await down({ backupFile });
        expect(client.status()).toMatchObject({ source: 'none', revision: null });
        expect(client.explain('checkout', alice)).toEqual({ path: 'LEGACY', reason: 'UNKNOWN_SLICE' });
      }
      expect(clients.codes().filter((c) => c === 'BACKUP_READ_FAILED')).toHaveLength(3);
    });

    it('answers LEGACY (UNKNOWN_SLICE) with no configuration at all, and route calls legacy', async () => {
      const client = await down();
      expect(client.explain('checkout', alice)).toEqual({ path: 'LEGACY', reason: 'UNKNOWN_SLICE' });
      expect(client.route('checkout', alice, { legacy: () => 'old', next: () => 'new' })).toBe('old');
    });
  });

  describe('backup file', () => {
    it('is written on every new revision from the service, atomically, in the snapshot format, and read by the next start', async () => {
      const server = await ProtocolServer.start(snapshotAt(1));
      try {
        const backupFile = join(dir, 'state', 'switchyard.json');
        const client = await clients.create(server.url, { backupFile });
        await waitFor(async () => (await readFile(backupFile, 'utf8').catch(() => '')).includes('"revision":1'), 2_000, 'the first backup');
        const change = nextChange(client);
        server.publish(snapshotAt(2, 0));
        await change;
        await waitFor(async () => (JSON.parse(await readFile(backupFile, 'utf8')) as { revision?: number }).revision === 2, 2_000, 'the second backup');
        expect(JSON.parse(await readFile(backupFile, 'utf8'))).toEqual(snapshotAt(2, 0));
        expect(await readdir(join(dir, 'state'))).toEqual(['switchyard.json']);
        await client.close();

        await server.stop();
        const restarted = await down({ backupFile });
        expect(restarted.status()).toMatchObject({ source: 'backup', revision: 2 });
        expect(restarted.decide('checkout', alice)).toBe('LEGACY');
      } finally {
        await server.stop();
      }
    });

    it('is not written from a bootstrap', async () => {
      const backupFile = join(dir, 'backup.json');
      const client = await down({ bootstrap: snapshotAt(2), backupFile });
      await client.close();
      expect(await readdir(dir)).toEqual([]);
    });

    it('is flushed by close(): close resolves once the write in progress is done', async () => {
      const server = await ProtocolServer.start(snapshotAt(1));
      try {
        const written: string[] = [];
        let release: (() => void) | undefined;
        // A slow disk, through the storage port.
        const slow: SnapshotStore = {
          name: 'a slow store',
          read: () => Promise.resolve(undefined),
          write: (text) =>
            new Promise<void>((resolve) => {
              release = () => {
                written.push(text);
                resolve();
              };
            }),
        };
        const client = await clients.create(server.url, {}, { backup: slow });
        await waitFor(() => release !== undefined, 2_000, 'the write to start');
        let closed = false;
        const closing = client.close().then(() => {
          closed = true;
        });
        await new Promise((resolve) => setTimeout(resolve, 50)); // the point: close() does not resolve meanwhile
        expect(closed).toBe(false);
        release!();
        await closing;
        expect(written).toHaveLength(1);
      } finally {
        await server.stop();
      }
    });

    it('reports a failed write and keeps deciding', async () => {
      const server = await ProtocolServer.start(snapshotAt(1));
      try {
        const client = await clients.create(server.url, { backupFile: dir }); // a directory: the rename fails
        await waitFor(() => clients.codes().includes('BACKUP_WRITE_FAILED'), 2_000, 'the report');
        expect(client.decide('checkout', alice)).toBe('NEW');
      } finally {
        await server.stop();
      }
    });
  });

  describe('decisions never throw', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('hostile getter');
        },
        has() {
          throw new Error('hostile has');
        },
      },
    );
    const huge = 'x'.repeat(1_000_000);
    const contexts: unknown[] = [
      null,
      undefined,
      42,
      'userId',
      true,
      [],
      ['alice'],
      { userId: 42 },
      { userId: null },
      { userId: huge },
      { userId: '' },
      hostile,
      Object.create(null),
      () => 'alice',
    ];
    const slices: unknown[] = ['checkout', 'search', 'unknown', '', huge, null, undefined, 42, {}, Symbol('s'), ['checkout']];

    const compared = snapshotAt(1, 5_000);
    const comparedEverywhere: SnapshotDefinition = { ...compared, slices: compared.slices.map((slice) => ({ ...slice, shadowBasisPoints: 10_000, watched: true })) };
    it.each([
      ['no configuration', undefined],
      ['a snapshot', snapshotAt(1, 5_000)],
      ['a snapshot comparing every call', comparedEverywhere],
    ])('for garbage slices and contexts, with %s', async (_name, bootstrap) => {
      const client = await down(bootstrap === undefined ? {} : { bootstrap });
      for (const slice of slices) {
        for (const context of contexts) {
          const path = client.decide(slice as string, context as EvaluationContext);
          expect(['NEW', 'LEGACY']).toContain(path);
          const decision = client.explain(slice as string, context as EvaluationContext);
          expect(decision.path).toBe(path);
          expect(client.route(slice as string, context as EvaluationContext, { legacy: () => 'LEGACY', next: () => 'NEW' })).toBe(path);
          expect(client.compare(slice as string, context as EvaluationContext, { legacy: () => 'LEGACY', next: () => 'NEW' })).toBe(path);
          client.recordOutcome(slice as string, path, { ok: true, durationMs: 1 });
        }
      }
      await new Promise((resolve) => setImmediate(resolve)); // the comparisons run
      expect(clients.errors.filter((e) => e.operation === 'outcomes')).toEqual([]);
      expect(client.decide('checkout', hostile as EvaluationContext)).toBe('LEGACY');
      if (bootstrap !== undefined) expect(client.explain('checkout', hostile as EvaluationContext)).toEqual({ path: 'LEGACY', reason: 'ERROR' });
    });

    it('lets exceptions of the route handlers reach the host (they are the host’s own code)', async () => {
      const client = await down({ bootstrap: snapshotAt(1) });
      expect(() =>
        client.route('checkout', alice, {
          legacy: () => 'old',
          next: () => {
            throw new Error('new stack failed');
          },
        }),
      ).toThrow('new stack failed');
    });
  });

  describe('counts', () => {
    it('counts decisions per slice and path, through decide, explain and route', async () => {
      const client = await down({ bootstrap: snapshotAt(1) });
      for (let i = 0; i < 5; i++) client.decide('checkout', alice);
      client.explain('checkout', alice);
      client.route('search', alice, { legacy: () => 0, next: () => 1 });
      client.decide('search', { userId: 'bob' });
      client.decide('nope', alice);
      expect(client.counts()).toEqual({ checkout: { NEW: 6, LEGACY: 0 }, search: { NEW: 1, LEGACY: 1 }, nope: { NEW: 0, LEGACY: 1 } });
    });

    it('returns a copy, and does not count keys that cannot be slice keys', async () => {
      const client = await down();
      client.decide('__proto__', alice);
      client.decide('x'.repeat(129), alice);
      client.decide(42 as unknown as string, alice);
      const counts = client.counts();
      expect(Object.keys(counts)).toEqual(['__proto__']);
      (counts['__proto__'] as { LEGACY: number }).LEGACY = 99;
      expect(client.counts()['__proto__']).toEqual({ NEW: 0, LEGACY: 1 });
    });

    it('tracks at most 10,000 distinct keys', async () => {
      const client = await down();
      for (let i = 0; i < 10_050; i++) client.decide(`slice-${i}`, alice);
      expect(Object.keys(client.counts())).toHaveLength(10_000);
    });
  });

  describe('options', () => {
    const valid = { url: 'http://127.0.0.1:1', token: 't', appName: 'a' };
    it.each([
      ['a URL that does not parse', { url: 'not a url' }],
      ['a URL that is not http', { url: 'ftp://example.com' }],
      ['an empty token', { token: '' }],
      ['a token with a newline', { token: 'a\nb' }],
      ['an app name with non-ASCII', { appName: 'café' }],
      ['a negative poll interval', { pollIntervalMs: -1 }],
      ['a zero heartbeat timeout', { heartbeatTimeoutMs: 0 }],
      ['a NaN backoff', { backoff: { initialMs: Number.NaN } }],
      ['an init timeout beyond setTimeout', { initTimeoutMs: 2 ** 31 }],
      ['an empty backup path', { backupFile: '' }],
      ['a zero watched interval', { watchedIntervalMs: 0 }],
      ['an isFailure that is not a function', { isFailure: 'status >= 500' as never }],
      ['a redact that is not a function', { redact: true as never }],
    ])('rejects %s with a TypeError', async (_name, override) => {
      await expect(createClient({ ...valid, ...override })).rejects.toThrow(TypeError);
    });

    it.each(['/graphql', '/GraphQL/', '/sdk/v1', '/sdk/v1/snapshot'])(
      'says at start that a URL whose path is %s is not the base URL (WRONG_URL), and does not refuse it',
      async (path) => {
        const client = await down({ url: `${downUrl}${path}` });
        expect(clients.errors[0]).toMatchObject({ code: 'WRONG_URL', operation: 'stream' });
        // The attempts still go out (and here find nothing listening).
        expect(clients.codes().slice(1)).toContain('NETWORK_ERROR');
        expect(client.explain('checkout', alice)).toEqual({ path: 'LEGACY', reason: 'UNKNOWN_SLICE' });
        // Without streaming, the operation that will fail is the poll.
        await down({ url: `${downUrl}${path}`, streaming: false });
        expect(clients.errors.filter((e) => e.code === 'WRONG_URL').map((e) => e.operation)).toEqual(['stream', 'poll']);
      },
    );

    it('does not judge at start a base URL under a path of its own (a proxy may serve the service there)', async () => {
      await down({ url: `${downUrl}/switchyard/` });
      expect(clients.codes()).not.toContain('WRONG_URL');
      expect(clients.codes()).toContain('NETWORK_ERROR');
    });

    it('uses the fetch it is given', async () => {
      const urls: string[] = [];
      const client = await createClient({
        ...valid,
        initTimeoutMs: 0,
        streaming: false,
        fetch: (input) => {
          urls.push(input instanceof Request ? input.url : String(input));
          return Promise.resolve(new Response(JSON.stringify(snapshotAt(5)), { status: 200, headers: { etag: '"5"' } }));
        },
      });
      await waitFor(() => client.status().revision === 5, 2_000, 'the snapshot');
      expect(urls[0]).toBe('http://127.0.0.1:1/sdk/v1/snapshot');
      await client.close();
    });
  });

  it('streams through the fetch it is given too', async () => {
    const server = await ProtocolServer.start(snapshotAt(3));
    try {
      const urls: string[] = [];
      const client = await createClient({
        url: server.url,
        token: 't',
        appName: 'a',
        metrics: false,
        fetch: (input, init) => {
          urls.push(input instanceof Request ? input.url : String(input));
          return fetch(input, init);
        },
      });
      expect(client.status()).toMatchObject({ state: 'streaming', revision: 3 });
      const change = nextChange(client);
      server.publishDelta(snapshotAt(4, 0));
      expect(await change).toMatchObject({ revision: 4, changedSlices: ['checkout'] });
      expect(urls).toContain(`${server.url}/sdk/v1/stream?delta=1`);
      await client.close();
    } finally {
      await server.stop();
    }
  });

  it('reports the version of its package.json', async () => {
    const pkg = JSON.parse(await readFile(new URL('../package.json', `file://${process.cwd()}/client-sdk/src/`), 'utf8')) as { version: string; dependencies?: object };
    expect(SDK_VERSION).toBe(pkg.version);
    expect(pkg.dependencies ?? {}).toEqual({});
  });
});
