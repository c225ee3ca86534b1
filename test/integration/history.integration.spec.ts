import { HistoryService } from '../../src/history/history.service.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, uniqueKey } from '../utils/operations.js';

/**
 * The history's guarantees, checked against the database itself (raw SQL), on whichever engine
 * the suite runs on.
 */
describe('history', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await buildSomeHistory();
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A bit of everything: segments, targeting, rollouts, rollbacks, resume, archive, a deletion. */
  async function buildSomeHistory(): Promise<void> {
    const ke = uniqueKey('kenya');
    const staff = uniqueKey('staff');
    const gone = uniqueKey('temporary');
    await createSegment(t.admin, ke, [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
    await createSegment(t.admin, staff, [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'] }]);
    await createSegment(t.admin, gone, [{ attribute: 'plan', operator: 'IN', values: ['free'] }]);
    await t.admin.ok('mutation($key: String!) { deleteSegment(key: $key, reason: "unused") { key } }', { key: gone });
    await t.admin.ok('mutation($key: String!) { updateSegment(key: $key, constraints: [{ attribute: "country", operator: IN, values: ["KE", "UG"] }]) { key } }', { key: ke });
    for (let i = 0; i < 6; i++) {
      const key = uniqueKey('api.route');
      await createSlice(t.admin, { key, tags: ['wave-1'] });
      await t.admin.ok('mutation($key: String!, $p: Float!) { setRollout(key: $key, reason: "test", percent: $p) { key } }', { key, p: 5 * (i + 1) });
      await t.admin.ok(
        'mutation($key: String!, $s: String!, $k: String!) { setTargeting(key: $key, reason: "test", include: [$s], rules: [{ segments: [$k], percent: 20 }]) { key } }',
        { key, s: staff, k: ke },
      );
      if (i % 3 === 1) await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "incident") { key } }', { key });
      if (i === 4) await t.admin.ok('mutation($key: String!) { resume(key: $key, reason: "fixed") { key } }', { key });
      if (i === 5) await t.admin.ok('mutation($key: String!) { archiveSlice(key: $key, reason: "test") { key } }', { key });
    }
    await t.admin.ok('mutation { rollbackAll(reason: "drill", tag: "wave-1") { count } }');
    await t.admin.ok('mutation { updateSlice(key: "nothing-yet", description: "x") { key } }').catch(() => undefined);
  }

  it('replaying history from the start gives exactly the current state of every slice and segment', async () => {
    const replayed = await t.app.get(HistoryService).replay();

    const slices: Record<string, unknown>[] = await t.dataSource.query(
      `SELECT key, description, owner, tags, stickiness_attribute AS "stickinessAttribute", basis_points AS "basisPoints",
              targeting, state, version, created_at AS "createdAt", updated_at AS "updatedAt" FROM slices ORDER BY key`,
    );
    expect(slices.length).toBeGreaterThanOrEqual(6);
    expect(replayed.slices.size).toBe(slices.length);
    for (const row of slices) {
      const current = { ...row, createdAt: (row.createdAt as Date).toISOString(), updatedAt: (row.updatedAt as Date).toISOString() };
      expect(replayed.slices.get(row.key as string)).toEqual(current);
    }

    const segments: Record<string, unknown>[] = await t.dataSource.query(
      'SELECT key, description, constraints, version, created_at AS "createdAt", updated_at AS "updatedAt" FROM segments ORDER BY key',
    );
    expect(replayed.segments.size).toBe(segments.length);
    for (const row of segments) {
      const current = { ...row, createdAt: (row.createdAt as Date).toISOString(), updatedAt: (row.updatedAt as Date).toISOString() };
      expect(replayed.segments.get(row.key as string)).toEqual(current);
    }
  });

  it("each slice row's `before` is exactly its previous row's `after`", async () => {
    const rows: { slice_key: string; before: unknown; after: unknown }[] = await t.dataSource.query(
      'SELECT slice_key, before, after FROM history WHERE slice_key IS NOT NULL ORDER BY sequence',
    );
    const last = new Map<string, unknown>();
    for (const row of rows) {
      expect(row.before).toEqual(last.get(row.slice_key) ?? null);
      last.set(row.slice_key, row.after);
    }
  });

  it('history is newest first, paginates by cursor, and filters by slice', async () => {
    const all: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { history: { nodes: { sequence: string }[]; pageInfo: { endCursor: string | null; hasNextPage: boolean } } } = await t.admin.ok(
        'query($after: String) { history(first: 7, after: $after) { nodes { sequence } pageInfo { endCursor hasNextPage } } }',
        { after },
      );
      all.push(...page.history.nodes.map((n) => n.sequence));
      if (!page.history.pageInfo.hasNextPage) break;
      after = page.history.pageInfo.endCursor;
    }
    const count: { n: string }[] = await t.dataSource.query('SELECT count(*)::text AS n FROM history');
    expect(all).toHaveLength(Number(count[0]!.n));
    expect(all.map(Number)).toEqual([...all.map(Number)].sort((a, b) => b - a));
  });

  it('verifyHistory accepts the untouched chain', async () => {
    const { verifyHistory } = await t.admin.ok<{ verifyHistory: { ok: boolean; checkedRows: number; firstBrokenSequence: string | null } }>(
      '{ verifyHistory { ok checkedRows firstBrokenSequence headHash } }',
    );
    const count: { n: string }[] = await t.dataSource.query('SELECT count(*)::text AS n FROM history');
    expect(verifyHistory).toMatchObject({ ok: true, checkedRows: Number(count[0]!.n), firstBrokenSequence: null });
  });

  it('the database refuses UPDATE, DELETE and TRUNCATE on history, whoever asks', async () => {
    const [row]: { sequence: string; reason: string | null }[] = await t.dataSource.query(
      'SELECT sequence::text AS sequence, reason FROM history h ORDER BY h.sequence DESC LIMIT 1',
    );
    await expect(t.dataSource.query("UPDATE history SET reason = 'rewritten' WHERE sequence = $1", [row!.sequence])).rejects.toThrow(/append-only/);
    await expect(t.dataSource.query('DELETE FROM history WHERE sequence = $1', [row!.sequence])).rejects.toThrow(/append-only/);
    await expect(t.dataSource.query('TRUNCATE history')).rejects.toThrow(/append-only/);
    const [after]: { reason: string | null }[] = await t.dataSource.query('SELECT reason FROM history WHERE sequence = $1', [row!.sequence]);
    expect(after!.reason).toBe(row!.reason);
  });

  // Last: these tamper with the chain (as an attacker with the trigger disabled would).
  it('verifyHistory finds a row altered behind the trigger’s back, and names it', async () => {
    const [victim]: { sequence: string }[] = await t.dataSource.query(
      "SELECT sequence::text AS sequence FROM history h WHERE action = 'ROLLOUT_SET' ORDER BY h.sequence LIMIT 1 OFFSET 2",
    );
    await tamper(`UPDATE history SET after = jsonb_set(after, '{basisPoints}', '10000') WHERE sequence = ${victim!.sequence}`);
    const { verifyHistory } = await t.admin.ok<{ verifyHistory: { ok: boolean; firstBrokenSequence: string | null } }>('{ verifyHistory { ok firstBrokenSequence } }');
    expect(verifyHistory).toEqual({ ok: false, firstBrokenSequence: victim!.sequence });
  });

  it('verifyHistory finds a deleted row (the next row no longer links)', async () => {
    const [first]: { sequence: string }[] = await t.dataSource.query(
      "SELECT sequence::text AS sequence FROM history h WHERE action = 'SEGMENT_CREATED' ORDER BY h.sequence LIMIT 1",
    );
    const [next]: { sequence: string }[] = await t.dataSource.query('SELECT sequence::text AS sequence FROM history h WHERE h.sequence > $1 ORDER BY h.sequence LIMIT 1', [
      first!.sequence,
    ]);
    await tamper(`DELETE FROM history WHERE sequence = ${first!.sequence}`);
    const { verifyHistory } = await t.admin.ok<{ verifyHistory: { ok: boolean; firstBrokenSequence: string | null } }>('{ verifyHistory { ok firstBrokenSequence } }');
    expect(verifyHistory).toEqual({ ok: false, firstBrokenSequence: next!.sequence });
  });

  async function tamper(sql: string): Promise<void> {
    await t.dataSource.transaction(async (tx) => {
      await tx.query('ALTER TABLE history DISABLE TRIGGER history_no_update_delete');
      await tx.query(sql);
      await tx.query('ALTER TABLE history ENABLE TRIGGER history_no_update_delete');
    });
  }
});
