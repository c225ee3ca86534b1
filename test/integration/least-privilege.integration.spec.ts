import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { INestApplication, LoggerService } from '@nestjs/common';
import pg from 'pg';
import { createApp } from '../../src/app.factory.js';
import { loadConfig } from '../../src/config/env.js';
import { TEST_CHECKPOINT_KEY } from '../utils/checkpoint-key.js';
import { ADMIN_TOKEN } from '../utils/create-test-app.js';
import { GraphqlClient } from '../utils/graphql-client.js';

const serverUrl = process.env.DATABASE_URL?.trim();
const onPostgres = serverUrl ? describe : describe.skip;

/**
 * The least-privilege setup of docs/history.md, run from its own SQL files with names of its own:
 * migrations as the owner role, the service as a runtime role that owns nothing. The service
 * works, and its role can neither change history (UPDATE, DELETE, TRUNCATE) nor make the trigger
 * look away (session_replication_role, ALTER TABLE ... DISABLE TRIGGER). PostgreSQL only: the
 * embedded engine has one role.
 */
onPostgres('least privilege: the service runs as a role that cannot bypass the history trigger', () => {
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const owner = `switchyard_test_owner_${suffix}`;
  const runtime = `switchyard_test_runtime_${suffix}`;
  const database = `switchyard_test_lp_${suffix}`;
  const urlAs = (role: string | null, db: string) => {
    const url = new URL(serverUrl!);
    if (role !== null) url.username = role;
    url.pathname = `/${db}`;
    return url.toString();
  };
  /** The documented SQL, with this test's names, statement by statement (as psql runs a file: CREATE DATABASE cannot share a transaction). */
  const documented = (file: string): string[] =>
    readFileSync(`docs/sql/${file}`, 'utf8')
      .replace(/^--.*$/gm, '')
      .replace(/'change-me-[a-z]+'/g, `'${randomBytes(8).toString('hex')}'`)
      .replace(/switchyard_owner/g, owner)
      .replace(/switchyard_runtime/g, runtime)
      .replace(/DATABASE switchyard /g, `DATABASE ${database} `)
      .split(/;\s*$/m)
      .map((statement) => statement.trim())
      .filter(Boolean);
  const runAll = async (client: pg.Client, statements: string[]) => {
    for (const statement of statements) await client.query(statement);
  };
  const warnings: unknown[] = [];
  const logger: LoggerService = { log: () => undefined, warn: (m: unknown) => void warnings.push(m), error: () => undefined };
  let app: INestApplication<Server> | null = null;
  let admin: GraphqlClient;
  let asRuntime: pg.Client;

  async function superuser<T>(db: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: urlAs(null, db) });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    const roles = documented('least-privilege-roles.sql');
    expect(roles).toHaveLength(3);
    await superuser(new URL(serverUrl!).pathname.slice(1) || 'postgres', (c) => runAll(c, roles));
    await superuser(database, (c) => runAll(c, documented('least-privilege-grants.sql')));
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: urlAs(runtime, database),
      SWITCHYARD_MIGRATIONS_DATABASE_URL: urlAs(owner, database),
      SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN,
      SWITCHYARD_CHECKPOINT_KEY: TEST_CHECKPOINT_KEY,
    });
    app = await createApp(config, { logger });
    await app.listen(0, '127.0.0.1');
    admin = new GraphqlClient(`http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`, ADMIN_TOKEN);
    asRuntime = new pg.Client({ connectionString: urlAs(runtime, database) });
    await asRuntime.connect();
  });
  afterAll(async () => {
    await asRuntime?.end();
    await app?.close();
    await superuser(new URL(serverUrl!).pathname.slice(1) || 'postgres', async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await c.query(`DROP ROLE IF EXISTS ${runtime}`);
      await c.query(`DROP ROLE IF EXISTS ${owner}`);
    });
  });

  it('the tables belong to the owner role, and the service works as the runtime role', async () => {
    const owners = (await asRuntime.query<{ tableowner: string }>("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")).rows;
    expect(owners).toEqual([{ tableowner: owner }]);
    await admin.ok('mutation { createSlice(key: "payments.provider.mpesa", percent: 5) { key } }');
    await admin.ok('mutation { setRollout(key: "payments.provider.mpesa", percent: 50, reason: "step") { key } }');
    await admin.ok('mutation { createSegment(key: "kenya", constraints: [{ attribute: "country", operator: IN, values: ["KE"] }]) { key } }');
    await admin.ok('mutation { deleteSegment(key: "kenya", reason: "unused") { key } }');
    const { checkpointHistory } = await admin.ok<{ checkpointHistory: Record<string, string> }>(
      'mutation { checkpointHistory { scheme position headHash signedAt keyId signature } }',
    );
    const { verifyHistory } = await admin.ok<{ verifyHistory: { ok: boolean; checkpointPosition: string | null } }>(
      'query($c: HistoryCheckpointInput) { verifyHistory(checkpoint: $c) { ok checkpointPosition } }',
      { c: checkpointHistory },
    );
    expect(verifyHistory).toEqual({ ok: true, checkpointPosition: checkpointHistory.position });
    const health = await fetch(admin.baseUrl + '/health/ready');
    expect(health.status).toBe(200);
    // It does not warn about its own privileges: it has none too many.
    expect(warnings).not.toContainEqual(expect.objectContaining({ msg: expect.stringContaining('may alter history') }));
  });

  it('the runtime role can neither change the record nor make its trigger look away', async () => {
    const refused = async (sql: string) => {
      const error = await asRuntime.query(sql).then(
        () => null,
        (e: { code?: string }) => e,
      );
      return error?.code ?? 'ACCEPTED';
    };
    for (const table of ['history', 'history_checkpoints']) {
      // Not granted at all (the trigger refuses with the same SQLSTATE, so ask for the privilege itself).
      const { rows: granted } = await asRuntime.query(
        `SELECT has_table_privilege($1, 'UPDATE') AS u, has_table_privilege($1, 'DELETE') AS d, has_table_privilege($1, 'TRUNCATE') AS t,
                has_table_privilege($1, 'INSERT') AS i, has_table_privilege($1, 'SELECT') AS s`,
        [table],
      );
      expect(granted[0]).toEqual({ u: false, d: false, t: false, i: true, s: true });
      expect(await refused(`UPDATE ${table} SET position = position`)).toBe('42501');
      expect(await refused(`DELETE FROM ${table}`)).toBe('42501');
      expect(await refused(`TRUNCATE ${table}`)).toBe('42501');
      expect(await refused(`ALTER TABLE ${table} DISABLE TRIGGER ALL`)).toBe('42501');
      expect(await refused(`DROP TABLE ${table}`)).toBe('42501');
    }
    expect(await refused('ALTER TABLE history DISABLE TRIGGER history_no_update_delete')).toBe('42501');
    expect(await refused('SET session_replication_role = replica')).toBe('42501');
    expect(await refused('CREATE TABLE evil (id int)')).toBe('42501');
    expect(await refused('CREATE OR REPLACE FUNCTION history_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$')).toBe('42501');
    // What it may do: read, and append (the service's own way is through ChangeService).
    const { rows } = await asRuntime.query<{ n: number }>('SELECT count(*)::int AS n FROM history');
    expect(rows[0]!.n).toBeGreaterThan(0);
  });

  it('a service connected as a role that could bypass the trigger says so at start-up', async () => {
    const said: unknown[] = [];
    const config = loadConfig({
      PORT: '0',
      DATABASE_URL: urlAs(null, database),
      SWITCHYARD_RUN_MIGRATIONS: 'false',
      SWITCHYARD_ADMIN_TOKEN: ADMIN_TOKEN,
      SWITCHYARD_CHECKPOINT_KEY: TEST_CHECKPOINT_KEY,
    });
    const superuserApp = await createApp(config, { logger: { log: () => undefined, warn: (m: unknown) => void said.push(m), error: () => undefined } });
    await superuserApp.close();
    expect(said).toContainEqual(expect.objectContaining({ msg: expect.stringContaining('may alter history behind its append-only trigger') }));
  });
});
