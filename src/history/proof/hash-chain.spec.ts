import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { canonicalJson, ChainVerifier, chainHash, type ChainedRow, GENESIS_HASH, type HashedRow } from './hash-chain.js';

interface Vectors {
  canonical: { value: unknown; canonical: string }[];
  rows: { row: ChainedRow; hash: string }[];
}
const vectors = JSON.parse(readFileSync(new URL('../../../test/fixtures/history-hash-vectors.json', import.meta.url), 'utf8')) as Vectors;

/** A chain of `drafts.length` rows as ChangeService writes it: positions from 1, scheme 2 after `v1Rows` scheme 1 rows. */
function buildChain(drafts: readonly Partial<ChainedRow>[], v1Rows = 0): HashedRow[] {
  const rows: HashedRow[] = [];
  let prevHash = GENESIS_HASH;
  drafts.forEach((draft, i) => {
    const row: ChainedRow = {
      position: String(i + 1),
      scheme: i < v1Rows ? 1 : 2,
      sequence: String(3 * i + 1), // gaps, as a database sequence has them
      sliceKey: 'api.route',
      segmentKey: null,
      action: 'ROLLOUT_SET',
      before: null,
      after: { basisPoints: i },
      actor: 'ana',
      reason: null,
      idempotencyKey: null,
      requestId: null,
      recordedAt: new Date(Date.UTC(2026, 10, 24, 3, 0, i)).toISOString(),
      ...draft,
      prevHash,
    };
    prevHash = chainHash(row);
    rows.push({ ...row, hash: prevHash });
  });
  return rows;
}

/** What an adversary with the public algorithm does after changing rows: recompute every hash from `from` on. */
function rechain(rows: readonly HashedRow[]): HashedRow[] {
  let prevHash = GENESIS_HASH;
  return rows.map((r) => {
    const { hash: _old, ...rest } = r;
    const row = { ...rest, prevHash };
    prevHash = chainHash(row);
    return { ...row, hash: prevHash };
  });
}

function verify(rows: readonly HashedRow[], checkpoints: { position: string; headHash: string }[] = []) {
  const verifier = new ChainVerifier({ checkpoints });
  for (const row of rows) if (!verifier.accept(row)) break;
  return verifier.verdict();
}

const anchorAt = (rows: readonly HashedRow[], index: number) => ({ position: rows[index]!.position, headHash: rows[index]!.hash });

// Strings an API client may send: every plane, controls, the separators JavaScript and Python
// escape differently, markup, bidirectional overrides.
const hostileString = fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('\u2028', '\u2029', '</script>', '\u0000', '\u007f', '\u202e', '😀', 'e\u0301', '\ufeff', '"\\/'));
const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileString,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileString, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const draft = fc.record({ reason: fc.option(hostileString), before: jsonValue, after: jsonValue });

describe('hash chain', () => {
  it('encodes canonical JSON exactly as the golden vectors say', () => {
    for (const v of vectors.canonical) expect(canonicalJson(v.value)).toBe(v.canonical);
  });

  it('keeps the hashes of existing chains (scheme 1) and pins scheme 2', () => {
    for (const v of vectors.rows) expect(chainHash(v.row)).toBe(v.hash);
    const [v1, v2] = vectors.rows;
    expect(v1!.row.scheme).toBe(1);
    expect(v2!.row.scheme).toBe(2);
  });

  it('scheme 2 covers the position and the scheme; scheme 1 covers neither', () => {
    const [v1, v2] = vectors.rows;
    expect(chainHash({ ...v2!.row, position: '3' })).not.toBe(v2!.hash);
    expect(chainHash({ ...v2!.row, scheme: 1 })).not.toBe(v2!.hash);
    expect(chainHash({ ...v1!.row, position: '99' })).toBe(v1!.hash);
    expect(() => chainHash({ ...v2!.row, scheme: 3 })).toThrow(RangeError);
  });

  it('accepts an honest chain of any content, v1 rows first, against a checkpoint at any of its rows', () => {
    fc.assert(
      fc.property(fc.array(draft, { minLength: 1, maxLength: 12 }), fc.nat(), fc.nat(), (drafts, v1, at) => {
        const rows = buildChain(drafts, v1 % (drafts.length + 1));
        const verdict = verify(rows, [anchorAt(rows, at % rows.length)]);
        expect(verdict).toMatchObject({ ok: true, verdict: 'OK', checkedRows: rows.length, headPosition: String(rows.length), headHash: rows.at(-1)!.hash });
      }),
    );
  });

  it('an adversary who removes rows from the end, or all of them, is caught by an earlier checkpoint (TRUNCATED), not without one', () => {
    fc.assert(
      fc.property(fc.array(draft, { minLength: 1, maxLength: 10 }), fc.nat(), fc.nat(), (drafts, at, cut) => {
        const rows = buildChain(drafts);
        const checkpoint = anchorAt(rows, at % rows.length);
        const kept = rows.slice(0, cut % Number(checkpoint.position)); // at least the checkpoint's row goes
        expect(verify(kept, [checkpoint])).toMatchObject({ ok: false, verdict: 'TRUNCATED', checkpointPosition: null });
        // Without a checkpoint a shorter chain is a valid chain: that is what checkpoints are for.
        expect(verify(kept).ok).toBe(true);
      }),
    );
  });

  it('an adversary who rewrites a row and recomputes the chain is caught by any checkpoint at or after it (CHECKPOINT_MISMATCH)', () => {
    fc.assert(
      fc.property(fc.array(draft, { minLength: 1, maxLength: 10 }), fc.nat(), fc.nat(), hostileString, (drafts, victim, at, reason) => {
        const rows = buildChain(drafts);
        const v = victim % rows.length;
        const checkpoint = anchorAt(rows, v + (at % (rows.length - v)));
        const forged = rows.map((r, i) => (i === v ? { ...r, reason: `${r.reason ?? ''}${reason}x` } : r));
        const recomputed = rechain(forged);
        expect(verify(recomputed).ok).toBe(true); // the public algorithm alone cannot tell
        expect(verify(recomputed, [checkpoint])).toMatchObject({ ok: false, verdict: 'CHECKPOINT_MISMATCH' });
        // Not recomputed: the row itself no longer verifies, and is named.
        expect(verify(forged)).toMatchObject({ ok: false, verdict: 'MISMATCH_AT_POSITION', firstBrokenPosition: String(v + 1) });
      }),
    );
  });

  it('a row removed from the middle breaks the positions there, even when the rest is recomputed', () => {
    fc.assert(
      fc.property(fc.array(draft, { minLength: 2, maxLength: 10 }), fc.nat(), (drafts, victim) => {
        const rows = buildChain(drafts);
        const v = victim % (rows.length - 1);
        const removed = rows.filter((_, i) => i !== v);
        expect(verify(removed)).toMatchObject({ ok: false, verdict: 'MISMATCH_AT_POSITION', firstBrokenPosition: String(v + 1) });
        expect(verify(rechain(removed))).toMatchObject({ ok: false, verdict: 'MISMATCH_AT_POSITION', firstBrokenPosition: String(v + 1) });
      }),
    );
  });

  it('refuses a scheme 1 row after a scheme 2 one (a downgrade to the scheme that does not cover positions)', () => {
    const rows = buildChain([{}, {}, {}], 1);
    const downgraded = rechain(rows.map((r, i) => (i === 2 ? { ...r, scheme: 1 } : r)));
    expect(verify(downgraded)).toMatchObject({ ok: false, verdict: 'MISMATCH_AT_POSITION', firstBrokenPosition: '3' });
  });

  it('sequence gaps do not matter; position gaps and duplicates do', () => {
    const rows = buildChain([{}, {}, {}]).map((r, i) => ({ ...r, sequence: String(i * 32 + 1) }));
    expect(verify(rechain(rows)).ok).toBe(true);
    expect(verify(rechain(rows.map((r, i) => (i === 2 ? { ...r, position: '4' } : r))))).toMatchObject({ verdict: 'MISMATCH_AT_POSITION', firstBrokenPosition: '3' });
    expect(verify(rechain(rows.map((r, i) => (i === 2 ? { ...r, position: '2' } : r))))).toMatchObject({ verdict: 'MISMATCH_AT_POSITION', firstBrokenPosition: '3' });
  });

  it('verifies a range that starts after genesis: it links to a checkpoint right before it, and cannot judge one further back', () => {
    const rows = buildChain([{}, {}, {}, {}, {}]);
    const range = (from: number, checkpoints: { position: string; headHash: string }[]) => {
      const verifier = new ChainVerifier({ fromPosition: String(from), checkpoints });
      for (const row of rows.slice(from - 1)) verifier.accept(row);
      return verifier.verdict();
    };
    expect(range(3, [])).toMatchObject({ ok: true, checkedRows: 3 });
    expect(range(3, [anchorAt(rows, 1)])).toMatchObject({ ok: true, checkpointPosition: '2' });
    expect(range(3, [{ position: '2', headHash: rows[0]!.hash }])).toMatchObject({ ok: false, verdict: 'CHECKPOINT_MISMATCH' });
    expect(range(3, [anchorAt(rows, 0)])).toMatchObject({ ok: false, verdict: 'CHECKPOINT_OUT_OF_RANGE' });
  });

  it('with several checkpoints, each must hold, and the highest is reported', () => {
    const rows = buildChain([{}, {}, {}, {}]);
    expect(verify(rows, [anchorAt(rows, 0), anchorAt(rows, 2)])).toMatchObject({ ok: true, checkpointPosition: '3' });
    expect(verify(rows, [anchorAt(rows, 2), { position: '1', headHash: rows[1]!.hash }])).toMatchObject({ ok: false, verdict: 'CHECKPOINT_MISMATCH' });
  });
});
