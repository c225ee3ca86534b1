import { chainHash, type ChainedRow, GENESIS_HASH, type HashedRow } from './hash-chain.js';
import { checkpointKeyFrom, generateCheckpointKey, type HistoryCheckpoint, signCheckpoint } from './history-checkpoint.js';
import { exportHeaderLine, exportRowLine, ExportVerifier } from './history-export.js';

describe('offline verification of an export', () => {
  const key = checkpointKeyFrom(generateCheckpointKey());
  const rows: HashedRow[] = [];
  let prevHash = GENESIS_HASH;
  for (let i = 1; i <= 5; i++) {
    const row: ChainedRow = {
      position: String(i),
      scheme: 2,
      sequence: String(i * 10),
      sliceKey: 'api.route',
      segmentKey: null,
      action: 'ROLLOUT_SET',
      before: { basisPoints: i - 1 },
      after: { basisPoints: i },
      actor: 'ana',
      reason: 'r\u2028',
      idempotencyKey: null,
      requestId: null,
      recordedAt: '2026-11-24T03:00:00.000Z',
      prevHash,
    };
    prevHash = chainHash(row);
    rows.push({ ...row, hash: prevHash });
  }
  const at = (i: number) => signCheckpoint(key, { position: rows[i - 1]!.position, headHash: rows[i - 1]!.hash, signedAt: new Date() });
  const header = (from = '1', to: string | null = null) => exportHeaderLine({ fromPosition: from, toPosition: to, exportedAt: new Date().toISOString() });

  function run(lines: string[], checkpoints: HistoryCheckpoint[], publicKey = key.publicKey) {
    const verifier = new ExportVerifier(checkpoints, publicKey);
    lines.forEach((line, i) => verifier.accept(line, i + 1));
    return verifier.verdict();
  }

  it('verifies a whole export and a range, and names the line where it stops', () => {
    const all = [header(), ...rows.map(exportRowLine)];
    expect(run(all, [at(3), at(5)])).toMatchObject({ ok: true, verdict: 'OK', checkedRows: 5, checkpointPosition: '5', line: null });
    expect(run([header('4'), ...rows.slice(3).map(exportRowLine)], [at(3)])).toMatchObject({ ok: true, checkedRows: 2 });
    expect(run([header('1', '2'), ...rows.slice(0, 2).map(exportRowLine)], [at(4)])).toMatchObject({ ok: false, verdict: 'CHECKPOINT_OUT_OF_RANGE' });
    expect(run(all.slice(0, 4), [at(5)])).toMatchObject({ ok: false, verdict: 'TRUNCATED' });
    const altered = [...all];
    altered[3] = altered[3]!.replace('"actor":"ana"', '"actor":"eve"');
    expect(run(altered, [at(5)])).toMatchObject({ ok: false, verdict: 'MISMATCH_AT_POSITION', firstBrokenPosition: '3', line: 4 });
  });

  it('checks every signature before reading a row', () => {
    const all = [header(), ...rows.map(exportRowLine)];
    expect(run(all, [at(2), { ...at(4), signedAt: '2000-01-01T00:00:00.000Z' }])).toMatchObject({ ok: false, verdict: 'BAD_SIGNATURE', checkedRows: 0 });
    expect(run(all, [at(2)], checkpointKeyFrom(generateCheckpointKey()).publicKey)).toMatchObject({ ok: false, verdict: 'WRONG_KEY' });
  });

  it('calls an export that is not one MALFORMED, with its line', () => {
    const rowLines = rows.map(exportRowLine);
    const cases: [string[], number][] = [
      [[], 1],
      [['{"type":"row"}'], 1],
      [[header(), 'not json'], 2],
      [[header(), rowLines[0]!, rowLines[1]!.replace('"scheme":2', '"scheme":"2"')], 3],
      [[header(), rowLines[0]!.replace('"actor":"ana"', '"actor":null')], 2],
      [[header('1', '1'), rowLines[0]!, rowLines[1]!], 3],
      [[header().replace('"version":1', '"version":2'), rowLines[0]!], 1],
    ];
    for (const [lines, line] of cases) expect(run(lines, [])).toMatchObject({ ok: false, verdict: 'MALFORMED', line });
    expect(run([header(), '', rowLines[0]!, '   '], [])).toMatchObject({ ok: true, checkedRows: 1 });
  });
});
