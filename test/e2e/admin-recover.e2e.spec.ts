import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LoggerService } from '@nestjs/common';
import { createApp } from '../../src/app.factory.js';
import { EXIT, runAdminRecovery } from '../../src/admin-recovery.command.js';
import { loadConfig } from '../../src/config/env.js';
import { checkpointEnv } from '../utils/checkpoint-key.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../utils/create-test-app.js';
import { GraphqlClient } from '../utils/graphql-client.js';

/**
 * `npm run admin:recover`: a lost admin token recovered with access to the database only, on the
 * engine the suite runs on. On the embedded engine the service must be stopped first (one process
 * per data directory); on PostgreSQL it keeps running. Runs the command in-process
 * (runAdminRecovery is what the script calls) with the service's environment.
 */
const onPostgres = process.env.DATABASE_URL?.trim() ? it : it.skip;

describe('admin:recover', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-recover-'));
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_DATA_DIR: dir });
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const embedded = () => t.database.url === null;
  /** The environment the service runs with: its database and checkpoint key. */
  const serviceEnv = (): Record<string, string> => (t.database.url === null ? { SWITCHYARD_DATA_DIR: dir } : { DATABASE_URL: t.database.url, ...checkpointEnv(t.database.url) });

  async function recover(args: string[], env: Record<string, string> = serviceEnv()) {
    let stdout = '';
    let stderr = '';
    const code = await runAdminRecovery(args, { env, stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, logger: false });
    return { code, stdout, stderr };
  }

  /** Runs `fn` with the service stopped on the embedded engine (it holds the data directory), running on PostgreSQL. */
  async function whereRecoveryRuns<T>(fn: () => Promise<T>): Promise<T> {
    if (!embedded()) return fn();
    await t.app.close();
    try {
      return await fn();
    } finally {
      t = await createTestApp({ SWITCHYARD_DATA_DIR: dir });
    }
  }

  interface Row {
    position: string;
    action: string;
    actor: string;
    reason: string | null;
    after: { name?: string; role?: string; createdBy?: string } | null;
  }
  async function historyHead(): Promise<Row[]> {
    const res = await t.admin.ok<{ history: { nodes: Row[] } }>('{ history(first: 5) { nodes { position action actor reason after } } }');
    return res.history.nodes;
  }

  it('mints an admin token by createToken’s path: in history with the recovery actor and reason, checkpointed, secret printed once', async () => {
    if (embedded()) {
      // The running service holds the data directory: refused, nothing written.
      const busy = await recover(['--name', 'ops-recovery', '--reason', 'lost the bootstrap token']);
      expect(busy.code).toBe(EXIT.unavailable);
      expect(busy.stdout).toBe('');
    }
    const before = await historyHead();

    const done = await whereRecoveryRuns(() => recover(['--name', 'ops-recovery', '--reason', 'lost the bootstrap token (INC-7)']));
    expect(done.code).toBe(EXIT.done);
    const secret = done.stdout.trim().split('\n').at(-1)!;
    expect(secret).toMatch(/^sy_[A-Za-z0-9_-]{43}$/);
    expect(done.stdout.split(secret).length).toBe(2);
    expect(done.stderr).not.toContain(secret);

    // The secret is an admin token of the (running or restarted) service.
    const recovered = new GraphqlClient(t.baseUrl, secret);
    const tokens = await recovered.ok<{ tokens: { name: string; role: string }[] }>('{ tokens { name role } }');
    expect(tokens.tokens).toContainEqual({ name: 'ops-recovery', role: 'ADMIN' });
    await recovered.ok('mutation { createToken(name: "ana.release-manager", role: RELEASE_MANAGER, reason: "after recovery") { secret } }');

    const rows = await historyHead();
    const row = rows.find((r) => r.action === 'TOKEN_CREATED' && r.after?.name === 'ops-recovery')!;
    expect(BigInt(row.position)).toBe(BigInt(before[0]!.position) + 1n);
    expect(row.actor).toMatch(/^recovery \(os user .+@.+\)$/);
    expect(row).toMatchObject({ reason: 'lost the bootstrap token (INC-7)', after: { role: 'admin', createdBy: row.actor } });
    // The change after it was made with the recovered token, under its name.
    expect(rows[0]).toMatchObject({ action: 'TOKEN_CREATED', actor: 'ops-recovery', after: { name: 'ana.release-manager' } });

    const proof = await t.admin.ok<{ verifyHistory: { ok: boolean }; historyCheckpoints: { nodes: { position: string }[] } }>(
      '{ verifyHistory { ok } historyCheckpoints(first: 50) { nodes { position } } }',
    );
    expect(proof.verifyHistory.ok).toBe(true);
    // Signed when the command closed, before anyone could use the token.
    expect(proof.historyCheckpoints.nodes.map((c) => c.position)).toContain(row.position);
  });

  it('refuses a taken or invalid name, a blank or missing reason: nothing written', async () => {
    const before = await historyHead();
    const outcomes = await whereRecoveryRuns(async () => [
      await recover(['--name', 'bootstrap-admin', '--reason', 'the name is taken']),
      await recover(['--name', 'has (parentheses)', '--reason', 'not a token name']),
      await recover(['--name', 'blank-reason', '--reason', '  ']),
      await recover(['--name', 'no-reason']),
      await recover(['--reason', 'no name']),
    ]);
    expect(outcomes.map((o) => o.code)).toEqual([EXIT.refused, EXIT.refused, EXIT.refused, EXIT.usage, EXIT.usage]);
    expect(outcomes[0]!.stderr).toContain('TOKEN_NAME_TAKEN');
    expect(outcomes[1]!.stderr).toContain('INVALID_INPUT (name)');
    expect(outcomes[2]!.stderr).toContain('INVALID_INPUT (reason)');
    for (const o of outcomes) expect(o.stdout).not.toMatch(/sy_/);
    expect(await historyHead()).toEqual(before);
  });

  onPostgres('needs the checkpoint key on PostgreSQL, as the service does (it writes history)', async () => {
    const before = await historyHead();
    const refused = await recover(['--name', 'no-key', '--reason', 'x'], { DATABASE_URL: t.database.url! });
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toContain('SWITCHYARD_CHECKPOINT_KEY');
    expect(await historyHead()).toEqual(before);
  });

  it('SWITCHYARD_ADMIN_TOKEN set after the first start: the log says it is ignored and why, and it grants nothing', async () => {
    const records: unknown[] = [];
    const keep = (message: unknown) => void records.push(message);
    const logger: LoggerService = { log: keep, warn: keep, error: keep, debug: keep, verbose: keep, fatal: keep };
    const stranger = 'sy_set_after_the_first_start_0000000000';
    const ignored = (r: unknown) => typeof r === 'object' && r !== null && (r as { setting?: string }).setting === 'SWITCHYARD_ADMIN_TOKEN';
    await whereRecoveryRuns(async () => {
      for (const [adminToken, expected] of [
        [stranger, { ignored: true }],
        [ADMIN_TOKEN, { ignored: true, token: 'bootstrap-admin' }],
      ] as const) {
        records.length = 0;
        const app = await createApp(loadConfig({ PORT: '0', ...serviceEnv(), SWITCHYARD_ADMIN_TOKEN: adminToken }), { logger });
        try {
          await app.listen(0, '127.0.0.1');
          expect(records.filter(ignored)).toEqual([expect.objectContaining(expected)]);
          const client = new GraphqlClient(`http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`, stranger);
          expect((await client.request('{ tokens { name } }')).status).toBe(401);
        } finally {
          await app.close();
        }
      }
    });
  });
});
