import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { createApp } from '../../src/app.factory.js';
import { ConfigError, loadConfig } from '../../src/config/env.js';
import { CheckpointScheduler } from '../../src/changes/checkpoint-scheduler.js';
import { GENERATED_KEY_FILE } from '../../src/history/checkpoint-key.provider.js';
import { generateCheckpointKey, type HistoryCheckpoint, parsePublicKey, privateKeyPem, verifyCheckpoint } from '../../src/history/proof/history-checkpoint.js';
import { TEST_CHECKPOINT_KEY } from '../utils/checkpoint-key.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../utils/create-test-app.js';
import { GraphqlClient } from '../utils/graphql-client.js';
import { ManualClock } from '../utils/manual-clock.js';
import { createSlice, uniqueKey } from '../utils/operations.js';
import { createTestDatabase } from '../utils/test-database.js';

const onPostgres = process.env.DATABASE_URL?.trim() ? describe : describe.skip;
const onEmbedded = process.env.DATABASE_URL?.trim() ? describe.skip : describe;

const CHECKPOINT = 'scheme position headHash signedAt keyId signature';

/** A webhook receiver: records what is POSTed; `hang` leaves requests unanswered. */
class WebhookReceiver {
  readonly received: string[] = [];
  hang = false;
  private readonly server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
    req.on('end', () => {
      this.received.push(body);
      if (!this.hang) res.writeHead(204).end();
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as { port: number }).port}/checkpoints`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

async function publicKeyOf(t: TestApp) {
  const data = await t.admin.ok<{ historyCheckpointKey: { publicKeyPem: string; publicKey: string; keyId: string } }>('{ historyCheckpointKey { publicKeyPem publicKey keyId } }');
  return data.historyCheckpointKey;
}

async function stored(t: TestApp): Promise<HistoryCheckpoint[]> {
  const data = await t.admin.ok<{ historyCheckpoints: { nodes: HistoryCheckpoint[] } }>(`{ historyCheckpoints(first: 500) { nodes { ${CHECKPOINT} } } }`);
  return data.historyCheckpoints.nodes;
}

async function headPosition(t: TestApp): Promise<number> {
  const data = await t.admin.ok<{ verifyHistory: { headPosition: string } }>('{ verifyHistory { headPosition } }');
  return Number(data.verifyHistory.headPosition);
}

function lines(file: string): HistoryCheckpoint[] {
  return existsSync(file)
    ? readFileSync(file, 'utf8')
        .trimEnd()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as HistoryCheckpoint)
    : [];
}

describe('checkpoints: when they are made, and where they are published', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-checkpoints-'));
  const file = join(dir, 'sink', 'checkpoints.ndjson');
  const webhook = new WebhookReceiver();
  const clock = new ManualClock();
  let t: TestApp;
  let scheduler: CheckpointScheduler;

  beforeAll(async () => {
    const url = await webhook.start();
    t = await createTestApp(
      {
        SWITCHYARD_CHECKPOINT_EVERY_CHANGES: '5',
        SWITCHYARD_CHECKPOINT_EVERY_MINUTES: '10',
        SWITCHYARD_CHECKPOINT_FILE: file,
        SWITCHYARD_CHECKPOINT_WEBHOOK_URL: url,
      },
      { clock },
    );
    scheduler = t.app.get(CheckpointScheduler);
  });
  afterAll(async () => {
    await webhook.stop(); // first: the calls it left hanging fail at once instead of timing out at shutdown
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function change(): Promise<void> {
    await createSlice(t.admin, { key: uniqueKey('api.route') });
    await scheduler.whenIdle();
  }

  it('every N changes: no more than N-1 rows are ever left without a checkpoint, each published once to the file, the webhook and the database', async () => {
    for (let i = 0; i < 12; i++) {
      await change();
      const [latest] = await stored(t);
      expect((await headPosition(t)) - Number(latest?.position ?? 0)).toBeLessThan(5);
    }
    const inDatabase = await stored(t);
    expect(inDatabase.length).toBeGreaterThanOrEqual(2);
    const positions = inDatabase.map((c) => Number(c.position)).reverse();
    for (let i = 1; i < positions.length; i++) expect(positions[i]! - positions[i - 1]!).toBeGreaterThanOrEqual(5);

    const published = lines(file);
    expect(published).toEqual([...inDatabase].reverse());
    await t.app.get(CheckpointScheduler).whenIdle();
    expect(webhook.received.map((body) => JSON.parse(body) as HistoryCheckpoint)).toEqual(published);

    const key = parsePublicKey((await publicKeyOf(t)).publicKeyPem);
    for (const c of published) expect(verifyCheckpoint(c, key)).toBe('OK');
    // Signed at the injected clock's time.
    expect(published.every((c) => c.signedAt === clock.now().toISOString())).toBe(true);
  });

  it('every M minutes, only when the head moved', async () => {
    const before = lines(file).length;
    await createSlice(t.admin, { key: uniqueKey('api.quiet') }); // fewer than N: no checkpoint yet
    await scheduler.whenIdle();
    expect(lines(file)).toHaveLength(before);

    await clock.advance(10 * 60_000);
    await scheduler.whenIdle();
    const after = lines(file);
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toMatchObject({ position: String(await headPosition(t)), signedAt: clock.now().toISOString() });

    await clock.advance(30 * 60_000); // three more ticks, nothing new
    await scheduler.whenIdle();
    expect(lines(file)).toHaveLength(before + 1);
  });

  it('a webhook that never answers holds up no change, and the other sinks still get every checkpoint', async () => {
    webhook.hang = true;
    const before = lines(file).length;
    for (let i = 0; i < 6; i++) {
      const started = performance.now();
      await createSlice(t.admin, { key: uniqueKey('api.hung-webhook') });
      expect(performance.now() - started).toBeLessThan(1_000);
    }
    await scheduler.whenIdle();
    expect(lines(file).length).toBeGreaterThan(before);
    expect((await stored(t))[0]).toEqual(lines(file).at(-1));
    webhook.hang = false;
  });

  it('checkpointHistory signs the head at once, once per position, and any reader may ask', async () => {
    await createSlice(t.admin, { key: uniqueKey('api.now') });
    await scheduler.whenIdle();
    const viewer = t.as(await t.tokenFor('viewer'));
    const first = (await viewer.ok<{ checkpointHistory: HistoryCheckpoint }>(`mutation { checkpointHistory { ${CHECKPOINT} } }`)).checkpointHistory;
    const again = (await t.admin.ok<{ checkpointHistory: HistoryCheckpoint }>(`mutation { checkpointHistory { ${CHECKPOINT} } }`)).checkpointHistory;
    expect(again).toEqual(first);
    expect(first.position).toBe(String(await headPosition(t)));
    expect(lines(file).filter((c) => c.position === first.position)).toHaveLength(1);
    const sdk = t.as(await t.tokenFor('sdk'));
    expect((await sdk.error('mutation { checkpointHistory { position } }')).extensions?.code).toBe('FORBIDDEN');
  });
});

describe('a last checkpoint at shutdown', () => {
  it('signs the head this instance appended since its last checkpoint', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-checkpoints-'));
    const file = join(dir, 'checkpoints.ndjson');
    try {
      const t = await createTestApp({ SWITCHYARD_CHECKPOINT_EVERY_CHANGES: '1000', SWITCHYARD_CHECKPOINT_FILE: file });
      await createSlice(t.admin, { key: uniqueKey('api.before-shutdown') });
      const head = await headPosition(t);
      expect(lines(file)).toEqual([]);
      await t.close();
      expect(lines(file).map((c) => c.position)).toEqual([String(head)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

onPostgres('checkpoints with two instances over one database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-checkpoints-'));
  let a: TestApp;
  let b: TestApp;
  afterAll(async () => {
    await b?.close();
    await a?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('each position is signed and published by one instance only, whoever committed it', async () => {
    const clockA = new ManualClock();
    const clockB = new ManualClock();
    const env = { SWITCHYARD_CHECKPOINT_EVERY_CHANGES: '1', SWITCHYARD_CHECKPOINT_EVERY_MINUTES: '1' };
    a = await createTestApp({ ...env, SWITCHYARD_CHECKPOINT_FILE: join(dir, 'a.ndjson') }, { clock: clockA });
    b = await createTestApp({ ...env, SWITCHYARD_CHECKPOINT_FILE: join(dir, 'b.ndjson') }, { clock: clockB, shareDatabaseOf: a });
    for (let i = 0; i < 8; i++) {
      await createSlice((i % 2 === 0 ? a : b).admin, { key: uniqueKey('api.shared') });
      // Both tick together as well: the head is the same for both, one of them publishes it.
      await Promise.all([clockA.advance(60_000), clockB.advance(60_000)]);
    }
    await Promise.all([a.app.get(CheckpointScheduler).whenIdle(), b.app.get(CheckpointScheduler).whenIdle()]);
    const published = [...lines(join(dir, 'a.ndjson')), ...lines(join(dir, 'b.ndjson'))];
    const positions = published.map((c) => c.position);
    expect(new Set(positions).size).toBe(positions.length);
    expect(published.length).toBeGreaterThanOrEqual(4);
    expect((await stored(a)).map((c) => c.position).sort()).toEqual([...positions].sort());
  });
});

describe('the signing key', () => {
  /** A logger that keeps what it is told, to find the warnings in. */
  function recordingLogger(): LoggerService & { records: unknown[] } {
    const records: unknown[] = [];
    const keep = (message: unknown) => void records.push(message);
    return { records, log: keep, warn: keep, error: keep, debug: keep, verbose: keep, fatal: keep };
  }

  async function start(env: Record<string, string>, logger: LoggerService | false = false) {
    const app = await createApp(loadConfig({ PORT: '0', SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN, ...env }), { logger });
    await app.listen(0, '127.0.0.1');
    const client = new GraphqlClient(`http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`, ADMIN_TOKEN);
    return { app, client };
  }

  onEmbedded('on the embedded engine, with none given', () => {
    it('is generated into the data directory once (0600), kept across restarts, with a warning to move it; checkpoints go to a file beside it', async () => {
      const parent = mkdtempSync(join(tmpdir(), 'switchyard-data-'));
      const dir = join(parent, 'data'); // not there yet: the service creates it
      try {
        const logger = recordingLogger();
        const first = await start({ SWITCHYARD_DATA_DIR: dir }, logger);
        const keyFile = join(dir, GENERATED_KEY_FILE);
        expect(statSync(keyFile).mode & 0o777).toBe(0o600);
        const warning = logger.records.find((r) => typeof r === 'object' && r !== null && (r as { keyFile?: string }).keyFile === keyFile);
        expect(warning).toMatchObject({ msg: expect.stringContaining('Move it off this machine') });
        const { historyCheckpointKey: k1 } = await first.client.ok<{ historyCheckpointKey: { keyId: string } }>('{ historyCheckpointKey { keyId } }');
        const { checkpointHistory } = await first.client.ok<{ checkpointHistory: HistoryCheckpoint }>(`mutation { checkpointHistory { ${CHECKPOINT} } }`);
        await first.app.close();
        expect(lines(join(dir, 'checkpoints.ndjson'))).toEqual([checkpointHistory]);

        const second = await start({ SWITCHYARD_DATA_DIR: dir });
        const { historyCheckpointKey: k2 } = await second.client.ok<{ historyCheckpointKey: { keyId: string } }>('{ historyCheckpointKey { keyId } }');
        await second.app.close();
        expect(k2.keyId).toBe(k1.keyId);
      } finally {
        rmSync(parent, { recursive: true, force: true });
      }
    });
  });

  it('comes from SWITCHYARD_CHECKPOINT_KEY_FILE or SWITCHYARD_CHECKPOINT_KEY, and the same key gives the same id either way', async () => {
    const database = await createTestDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-key-'));
    try {
      const keyFile = join(dir, 'key.pem');
      const pem = privateKeyPem(generateCheckpointKey());
      writeFileSync(keyFile, pem, { mode: 0o600 });
      const base = { SWITCHYARD_DATA_DIR: 'memory:', ...(database.url ? { DATABASE_URL: database.url } : {}) };
      const ids: string[] = [];
      for (const env of [{ SWITCHYARD_CHECKPOINT_KEY_FILE: keyFile }, { SWITCHYARD_CHECKPOINT_KEY: pem }] as Record<string, string>[]) {
        const s = await start({ ...base, ...env });
        ids.push((await s.client.ok<{ historyCheckpointKey: { keyId: string } }>('{ historyCheckpointKey { keyId } }')).historyCheckpointKey.keyId);
        await s.app.close();
      }
      expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
      expect(ids[1]).toBe(ids[0]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await database.drop();
    }
  });

  it('is checked at start-up, never echoed: not both, and an Ed25519 private key', () => {
    expect(() => loadConfig({ SWITCHYARD_CHECKPOINT_KEY: TEST_CHECKPOINT_KEY, SWITCHYARD_CHECKPOINT_KEY_FILE: '/k.pem' })).toThrow(ConfigError);
    const secretLooking = 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0';
    expect(() => loadConfig({ SWITCHYARD_CHECKPOINT_KEY: secretLooking })).toThrow(ConfigError);
    try {
      loadConfig({ SWITCHYARD_CHECKPOINT_KEY: secretLooking });
    } catch (error) {
      expect((error as Error).message).not.toContain(secretLooking);
    }
    expect(() => loadConfig({ SWITCHYARD_CHECKPOINT_WEBHOOK_URL: 'ftp://x' })).toThrow(ConfigError);
    expect(() => loadConfig({ SWITCHYARD_MIGRATIONS_DATABASE_URL: 'postgres://owner@db/switchyard' })).toThrow(ConfigError);
    expect(loadConfig({ SWITCHYARD_DATA_DIR: '/var/lib/switchyard' }).checkpointFile).toBe('/var/lib/switchyard/checkpoints.ndjson');
    expect(loadConfig({ SWITCHYARD_DATA_DIR: 'memory:' }).checkpointFile).toBeNull();
    expect(loadConfig({ DATABASE_URL: 'postgres://db/x' }).checkpointFile).toBeNull();
  });

  onPostgres('on a PostgreSQL server', () => {
    it('is required: without one the service refuses to start, unless checkpoints are turned off, which it says and keeps to', async () => {
      const database = await createTestDatabase();
      try {
        await expect(start({ DATABASE_URL: database.url!, SWITCHYARD_DATA_DIR: 'memory:' })).rejects.toThrow(ConfigError);

        const logger = recordingLogger();
        const s = await start({ DATABASE_URL: database.url!, SWITCHYARD_CHECKPOINTS: 'off' }, logger);
        try {
          expect(logger.records).toContainEqual(expect.objectContaining({ msg: expect.stringContaining('history checkpoints are OFF') }));
          expect((await s.client.ok<{ historyCheckpointKey: unknown }>('{ historyCheckpointKey { keyId } }')).historyCheckpointKey).toBeNull();
          expect((await s.client.error('mutation { checkpointHistory { position } }')).extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'CHECKPOINTS_DISABLED' });
          expect((await s.client.ok<{ verifyHistory: { ok: boolean } }>('{ verifyHistory { ok } }')).verifyHistory.ok).toBe(true);
        } finally {
          await s.app.close();
        }
      } finally {
        await database.drop();
      }
    });
  });
});
