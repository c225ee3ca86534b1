import { DataSource } from 'typeorm';
import type { PGlite } from '@electric-sql/pglite';
import { dataSourceOptions } from '../../src/database/data-source-options.js';
import { ENTITIES } from '../../src/entities.js';
import { openEmbeddedDatabase } from '../../src/database/embedded-database.js';
import { runMigrations } from '../../src/database/run-migrations.js';
import { MIGRATIONS } from '../../migrations/index.js';
import { ChainVerifier, chainHash, type ChainedRow, GENESIS_HASH, type HashedRow } from '../../src/history/proof/hash-chain.js';
import { createTestDatabase, type TestDatabase } from '../utils/test-database.js';

const TABLES = [
  'api_tokens',
  'comparison_buckets',
  'console_sessions',
  'freeze_windows',
  'history',
  'history_checkpoints',
  'idempotency_keys',
  'instance_outcome_buckets',
  'mismatch_samples',
  'outcome_buckets',
  'plans',
  'sdk_instances',
  'segment_coverage_buckets',
  'segments',
  'slice_segments',
  'slices',
  'traffic_buckets',
  'traffic_followers',
];

describe('migrations', () => {
  let database: TestDatabase;
  let pglite: PGlite | null = null;
  let dataSource: DataSource;

  beforeAll(async () => {
    database = await createTestDatabase();
    pglite = database.url === null ? await openEmbeddedDatabase('memory:') : null;
    dataSource = await new DataSource(dataSourceOptions(database.url, pglite, ENTITIES)).initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy();
    await pglite?.close();
    await database?.drop();
  });

  async function tables(): Promise<string[]> {
    const rows: { table_name: string }[] = await dataSource.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name <> 'migrations' ORDER BY 1",
    );
    return rows.map((r) => r.table_name);
  }

  it('apply, revert and apply again, leaving the same schema', async () => {
    expect(await runMigrations(dataSource, { lock: pglite === null })).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await tables()).toEqual(TABLES);
    expect(await dataSource.showMigrations()).toBe(false);

    for (let i = 0; i < MIGRATIONS.length; i++) await dataSource.undoLastMigration({ transaction: 'each' });
    expect(await tables()).toEqual([]);
    expect(await dataSource.showMigrations()).toBe(true);

    await runMigrations(dataSource, { lock: pglite === null });
    expect(await tables()).toEqual(TABLES);
    // Running again finds nothing to do.
    expect(await runMigrations(dataSource, { lock: pglite === null })).toEqual([]);
  });

  it('installs the append-only trigger on history', async () => {
    const rows: { tgname: string }[] = await dataSource.query("SELECT tgname FROM pg_trigger WHERE tgrelid = 'history'::regclass AND NOT tgisinternal ORDER BY 1");
    expect(rows.map((r) => r.tgname)).toEqual(['history_no_truncate', 'history_no_update_delete']);
  });

  it('gives an existing chain gapless positions in sequence order, keeps its hashes verifying, and reverts only while no row is scheme 2', async () => {
    const db = await createTestDatabase();
    const engine = db.url === null ? await openEmbeddedDatabase('memory:') : null;
    const upTo = async (count: number) => new DataSource({ ...dataSourceOptions(db.url, engine, ENTITIES), migrations: MIGRATIONS.slice(0, count) }).initialize();
    try {
      const before = await upTo(3);
      await runMigrations(before, { lock: engine === null });
      // A chain written by the code before positions: scheme 1 hashes, sequence gaps (a crash, a rollback).
      const rows: HashedRow[] = [];
      let prevHash = GENESIS_HASH;
      for (const [i, sequence] of ['1', '2', '35', '36', '90'].entries()) {
        const row: ChainedRow = {
          position: '0',
          scheme: 1,
          sequence,
          sliceKey: `api.route-${i}`,
          segmentKey: null,
          action: 'SLICE_CREATED',
          before: null,
          after: { key: `api.route-${i}`, note: 'line\u2028sep 😀' },
          actor: 'ana',
          reason: i === 2 ? 'after a crash' : null,
          idempotencyKey: null,
          requestId: null,
          recordedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
          prevHash,
        };
        prevHash = chainHash(row);
        rows.push({ ...row, hash: prevHash });
      }
      for (const r of [...rows].reverse()) {
        await before.query(
          `INSERT INTO history (sequence, slice_key, segment_key, action, before, after, actor, reason, idempotency_key, request_id, recorded_at, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, $7, $8, $9, $10, $11, $12, $13)`,
          [r.sequence, r.sliceKey, r.segmentKey, r.action, null, JSON.stringify(r.after), r.actor, r.reason, null, null, r.recordedAt, r.prevHash, r.hash],
        );
      }
      await before.destroy();

      // Up to the positions migration, not beyond: the reverts below must be of that one.
      const after = await upTo(MIGRATIONS.findIndex((m) => m.name === 'HistoryPositionsAndCheckpoints1764600000000') + 1);
      try {
        expect(await runMigrations(after, { lock: engine === null })).toEqual(['HistoryPositionsAndCheckpoints1764600000000']);
        const stored: { position: string; scheme: number; sequence: string; hash: string }[] = await after.query(
          'SELECT position::text AS position, scheme, sequence::text AS sequence, hash FROM history ORDER BY position',
        );
        expect(stored).toEqual(rows.map((r, i) => ({ position: String(i + 1), scheme: 1, sequence: r.sequence, hash: r.hash })));
        const verifier = new ChainVerifier();
        for (const [i, r] of rows.entries()) expect(verifier.accept({ ...r, position: String(i + 1) })).toBe(true);
        expect(verifier.verdict()).toMatchObject({ ok: true, headPosition: '5' });
        // The trigger is back on: the migration's own UPDATE was the only one let through.
        await expect(after.query("UPDATE history SET reason = 'x' WHERE position = 1")).rejects.toThrow(/append-only/);

        await after.undoLastMigration({ transaction: 'each' });
        await runMigrations(after, { lock: engine === null });
        const v2: ChainedRow = { ...rows[4]!, position: '6', scheme: 2, sequence: '91', prevHash: rows[4]!.hash };
        await after.query(
          `INSERT INTO history (position, scheme, sequence, slice_key, segment_key, action, before, after, actor, reason, idempotency_key, request_id, recorded_at, prev_hash, hash)
           VALUES ($1, 2, $2, $3, NULL, $4, NULL, $5::jsonb, $6, NULL, NULL, NULL, $7, $8, $9)`,
          [v2.position, v2.sequence, v2.sliceKey, v2.action, JSON.stringify(v2.after), v2.actor, v2.recordedAt, v2.prevHash, chainHash(v2)],
        );
        await expect(after.undoLastMigration({ transaction: 'each' })).rejects.toThrow(/scheme 2/);
      } finally {
        await after.destroy();
      }
    } finally {
      await engine?.close();
      await db.drop();
    }
  });
});
