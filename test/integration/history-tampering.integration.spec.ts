import pg from 'pg';
import { chainHash, GENESIS_HASH, type HashedRow } from '../../src/history/proof/hash-chain.js';
import type { HistoryCheckpoint as Checkpoint } from '../../src/history/proof/history-checkpoint.js';
import { HistoryService } from '../../src/history/history.service.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, uniqueKey } from '../utils/operations.js';

interface Verification {
  ok: boolean;
  verdict: string;
  checkedRows: number;
  firstBrokenPosition: string | null;
  headPosition: string;
  checkpointPosition: string | null;
}

const CHECKPOINT = 'scheme position headHash signedAt keyId signature';
const VERIFY = `query($checkpoint: HistoryCheckpointInput) {
  verifyHistory(checkpoint: $checkpoint) { ok verdict checkedRows firstBrokenPosition headPosition checkpointPosition }
}`;

/**
 * The adversary of issue 10, on whichever engine the suite runs on: someone who can write to the
 * database bypasses the append-only trigger without ALTER TABLE (`session_replication_role =
 * replica`: a superuser connection of its own on PostgreSQL, PGlite's own session here) and
 * removes the last row, removes every row, or rewrites a row and recomputes the whole chain with
 * the public algorithm. Each must fail against a checkpoint taken before; the honest chain passes.
 * Each case restores the rows it took, so the next starts from the honest chain.
 */
describe('history against an adversary with database access', () => {
  let t: TestApp;
  let published: Checkpoint;

  beforeAll(async () => {
    // No scheduled checkpoint gets in the way: each test takes the ones it means to.
    t = await createTestApp({ SWITCHYARD_CHECKPOINT_EVERY_CHANGES: '1000000', SWITCHYARD_CHECKPOINT_EVERY_MINUTES: '1440' });
    await createSegment(t.admin, uniqueKey('kenya'), [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
    for (let i = 0; i < 4; i++) {
      const slice = await createSlice(t.admin, { key: uniqueKey('api.route'), description: `route ${i} \u2028 </script> 😀` });
      await t.admin.ok('mutation($key: String!, $p: Float!) { setRollout(key: $key, percent: $p, reason: "step") { key } }', { key: slice.key, p: 5 + i });
    }
    published = await checkpoint();
  });
  afterAll(async () => {
    await t?.close();
  });

  async function checkpoint(): Promise<Checkpoint> {
    return (await t.admin.ok<{ checkpointHistory: Checkpoint }>(`mutation { checkpointHistory { ${CHECKPOINT} } }`)).checkpointHistory;
  }

  async function verify(checkpointArg: Checkpoint | null = published): Promise<Verification> {
    return (await t.admin.ok<{ verifyHistory: Verification }>(VERIFY, { checkpoint: checkpointArg })).verifyHistory;
  }

  /** Statements run as the adversary: triggers off for its session only, no ALTER TABLE. */
  async function asAdversary(statements: [string, unknown[]?][]): Promise<void> {
    if (t.database.url !== null) {
      const client = new pg.Client({ connectionString: t.database.url });
      await client.connect();
      try {
        await client.query('SET session_replication_role = replica');
        await client.query('BEGIN');
        for (const [sql, params] of statements) await client.query(sql, params);
        await client.query('COMMIT');
      } finally {
        await client.end();
      }
    } else {
      await t.dataSource.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        for (const [sql, params] of statements) await tx.query(sql, params);
      });
    }
  }

  const historyRows = async () => t.app.get(HistoryService).chain('1', null, 500);

  /** Puts rows back exactly as they were (what the adversary removed or rewrote). */
  async function restore(rows: readonly HashedRow[]): Promise<void> {
    await asAdversary([
      ['DELETE FROM history'],
      ...rows.map((r): [string, unknown[]] => [
        `INSERT INTO history (position, scheme, sequence, slice_key, segment_key, action, before, after, actor, reason, idempotency_key, request_id, recorded_at, prev_hash, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb, $9, $10, $11, $12, $13, $14, $15)`,
        [
          r.position,
          r.scheme,
          r.sequence,
          r.sliceKey,
          r.segmentKey,
          r.action,
          JSON.stringify(r.before),
          JSON.stringify(r.after),
          r.actor,
          r.reason,
          r.idempotencyKey,
          r.requestId,
          r.recordedAt,
          r.prevHash,
          r.hash,
        ],
      ]),
    ]);
    expect(await verify()).toMatchObject({ ok: true, verdict: 'OK' });
  }

  it('the honest chain verifies against the published checkpoint, and against the newest stored one by default', async () => {
    const rows = await historyRows();
    expect(published).toMatchObject({ scheme: 'switchyard-checkpoint-v1', position: String(rows.length), headHash: rows.at(-1)!.hash });
    expect(await verify()).toEqual({
      ok: true,
      verdict: 'OK',
      checkedRows: rows.length,
      firstBrokenPosition: null,
      headPosition: String(rows.length),
      checkpointPosition: published.position,
    });
    expect(await verify(null)).toMatchObject({ ok: true, checkpointPosition: published.position });
    expect(rows.map((r) => r.position)).toEqual(rows.map((_, i) => String(i + 1)));
    expect(rows.every((r) => r.scheme === 2)).toBe(true);
  });

  it('removing the last row is TRUNCATED', async () => {
    const rows = await historyRows();
    await asAdversary([['DELETE FROM history WHERE position = $1', [rows.at(-1)!.position]]]);
    expect(await verify()).toMatchObject({ ok: false, verdict: 'TRUNCATED', checkedRows: rows.length - 1, checkpointPosition: null });
    await restore(rows);
  });

  it('removing every row is TRUNCATED', async () => {
    const rows = await historyRows();
    await asAdversary([['DELETE FROM history']]);
    expect(await verify()).toMatchObject({ ok: false, verdict: 'TRUNCATED', checkedRows: 0, headPosition: '0' });
    await restore(rows);
  });

  it('rewriting a row and recomputing the whole chain with the public algorithm is CHECKPOINT_MISMATCH', async () => {
    const rows = await historyRows();
    const victim = rows.findIndex((r) => r.action === 'ROLLOUT_SET');
    let prevHash = GENESIS_HASH;
    const forged = rows.map((r, i) => {
      const { hash: _, ...row } = i === victim ? { ...r, after: { ...(r.after as object), basisPoints: 10000 } } : r;
      const chained = { ...row, prevHash };
      prevHash = chainHash(chained);
      return { ...chained, hash: prevHash };
    });
    await asAdversary(
      forged.map((r): [string, unknown[]] => [
        'UPDATE history SET after = $2::jsonb, prev_hash = $3, hash = $4 WHERE position = $1',
        [r.position, JSON.stringify(r.after), r.prevHash, r.hash],
      ]),
    );
    expect(await verify()).toMatchObject({ ok: false, verdict: 'CHECKPOINT_MISMATCH', checkpointPosition: null });
    // The stored checkpoint catches it too...
    expect(await verify(null)).toMatchObject({ ok: false, verdict: 'CHECKPOINT_MISMATCH' });
    // ...until the adversary removes it as well: only the published copy is proof.
    await asAdversary([['DELETE FROM history_checkpoints']]);
    expect(await verify(null)).toMatchObject({ ok: true, checkpointPosition: null });
    expect(await verify()).toMatchObject({ ok: false, verdict: 'CHECKPOINT_MISMATCH' });
    await restore(rows);
  });

  it('removing the last row and letting the service append again reuses its position: CHECKPOINT_MISMATCH', async () => {
    const rows = await historyRows();
    await asAdversary([['DELETE FROM history WHERE position = $1', [rows.at(-1)!.position]]]);
    await createSlice(t.admin, { key: uniqueKey('api.after-truncation') });
    expect(await verify()).toMatchObject({ ok: false, verdict: 'CHECKPOINT_MISMATCH' });
    const appended = await historyRows();
    await asAdversary([['DELETE FROM history WHERE position = $1', [appended.at(-1)!.position]]]);
    await restore(rows);
  });

  it('a forged or foreign checkpoint is refused: BAD_SIGNATURE, WRONG_KEY; a malformed one is BAD_USER_INPUT naming the member', async () => {
    const rows = await historyRows();
    const lying = { ...published, position: String(rows.length - 1), headHash: rows.at(-2)!.hash };
    expect(await verify(lying)).toMatchObject({ ok: false, verdict: 'BAD_SIGNATURE', checkedRows: 0 });
    expect(await verify({ ...published, keyId: '0'.repeat(32) })).toMatchObject({ ok: false, verdict: 'WRONG_KEY' });
    const error = await t.admin.error(VERIFY, { checkpoint: { ...published, headHash: 'not-a-hash' } });
    expect(error.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'checkpoint.headHash' });
  });

  it('a rolled-back transaction leaves a gap in sequence, none in position', async () => {
    const before = await historyRows();
    const burn = "SELECT nextval('history_sequence_seq') FROM generate_series(1, 32)";
    await t.dataSource
      .transaction(async (tx) => {
        await tx.query(burn);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await createSlice(t.admin, { key: uniqueKey('api.after-gap') });
    const after = await historyRows();
    const [previous, added] = [after.at(-2)!, after.at(-1)!];
    expect(BigInt(added.sequence) - BigInt(previous.sequence)).toBeGreaterThan(32n);
    expect(added.position).toBe(String(before.length + 1));
    expect(await verify()).toMatchObject({ ok: true, checkpointPosition: published.position, headPosition: added.position });
  });

  it('the database refuses UPDATE, DELETE and TRUNCATE on stored checkpoints, as on history', async () => {
    await checkpoint();
    await expect(t.dataSource.query("UPDATE history_checkpoints SET head_hash = 'x'")).rejects.toThrow(/append-only/);
    await expect(t.dataSource.query('DELETE FROM history_checkpoints')).rejects.toThrow(/append-only/);
    await expect(t.dataSource.query('TRUNCATE history_checkpoints')).rejects.toThrow(/append-only/);
  });
});
