import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../../src/cli/program.js';
import type { Verdict as CliVerdict } from '../../src/cli/commands/verify-history.command.js';
import { chainHash, GENESIS_HASH, type HashedRow } from '../../src/history/proof/hash-chain.js';
import { checkpointKeyFrom, generateCheckpointKey, signCheckpoint } from '../../src/history/proof/history-checkpoint.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, uniqueKey } from '../utils/operations.js';

/** Text that JavaScript and Python write differently if one is careless, and text that hides things on a terminal. */
const UNUSUAL = 'sep\u2028para\u2029 </script> \u0001\u001b[31m\u007f 😀 e\u0301 \u202eevil\u202c \ufeff "q" \\ \t\n end';

/** What the CLI prints with --json (its own type), plus the Python verifier's count of checkpoints. */
type Verdict = CliVerdict & { checkpoints?: number };

/**
 * `switchyard history export` and offline `verify-history --file`, against the real service, and
 * docs/verify_history.py (the independent verifier in Python) on the same exports: both must
 * reach the same verdict, honest or tampered.
 */
describe('history export and offline verification', () => {
  let t: TestApp;
  let viewer: string;
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-export-'));
  const path = (name: string) => join(dir, name);

  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_CHECKPOINT_EVERY_CHANGES: '1000000' });
    viewer = await t.tokenFor('viewer', 'auditor');
    await createSegment(t.admin, uniqueKey('kenya'), [{ attribute: 'country', operator: 'IN', values: ['KE', UNUSUAL] }]);
    for (let i = 0; i < 3; i++) {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider'), description: `${UNUSUAL} ${i}`, owner: 'team-π' });
      await t.admin.ok('mutation($key: String!, $p: Float!, $r: String!) { setRollout(key: $key, percent: $p, reason: $r) { key } }', {
        key: slice.key,
        p: [0.25, 12.5, 100][i],
        r: `${UNUSUAL} step ${i}`,
      });
    }
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  interface Result {
    code: number;
    stdout: string;
    stderr: string;
  }

  async function cli(args: string[], token: string | null = viewer): Promise<Result> {
    let stdout = '';
    let stderr = '';
    const code = await run(args, {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
      env: { SWITCHYARD_URL: t.baseUrl, ...(token !== null ? { SWITCHYARD_TOKEN: token } : {}) },
    });
    return { code, stdout, stderr };
  }

  function python(args: string[]): Promise<Result> {
    return new Promise((resolve) => {
      execFile('python3', ['docs/verify_history.py', ...args], { cwd: process.cwd() }, (error, stdout, stderr) =>
        resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr }),
      );
    });
  }

  /** The verdict of both verifiers over `exportFile`; they must agree, member for member. */
  async function verifyBoth(exportFile: string, checkpointFile: string, keyFile: string): Promise<{ code: number; verdict: Verdict }> {
    const ours = await cli(['verify-history', '--file', exportFile, '--checkpoint', checkpointFile, '--public-key', keyFile, '--json'], null);
    const theirs = await python(['--file', exportFile, '--checkpoint', checkpointFile, '--public-key', keyFile, '--json']);
    expect(ours.stderr).toBe('');
    expect(theirs.stderr).toBe('');
    const verdict = JSON.parse(ours.stdout) as Verdict;
    expect(JSON.parse(theirs.stdout)).toEqual(verdict);
    expect(theirs.code).toBe(ours.code);
    return { code: ours.code, verdict };
  }

  async function publicKeyFile(): Promise<string> {
    const key = await cli(['checkpoint', 'public-key']);
    expect(key.code).toBe(0);
    expect(key.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n[\s\S]+-----END PUBLIC KEY-----\n$/);
    writeFileSync(path('key.pub'), key.stdout);
    return path('key.pub');
  }

  async function checkpointFile(name: string): Promise<string> {
    const created = await cli(['checkpoint', 'create']);
    expect(created.code).toBe(0);
    expect(created.stdout.trimEnd().split('\n')).toHaveLength(1);
    writeFileSync(path(name), created.stdout);
    return path(name);
  }

  function readExport(file: string): { header: string; rows: HashedRow[] } {
    const [header, ...rows] = readFileSync(file, 'utf8').trimEnd().split('\n');
    return { header: header!, rows: rows.map((l) => JSON.parse(l) as HashedRow & { type: string }) };
  }

  function writeExport(file: string, header: string, rows: readonly HashedRow[]): string {
    writeFileSync(file, [header, ...rows.map((r) => JSON.stringify({ type: 'row', ...r }))].join('\n') + '\n');
    return file;
  }

  it('an honest export verifies offline, by the CLI and by the Python verifier alike, with no service and no token', async () => {
    const key = await publicKeyFile();
    const checkpoint = await checkpointFile('checkpoint.json');
    const exported = await cli(['history', 'export', '--out', path('history.ndjson')]);
    expect(exported.code).toBe(0);
    const { header, rows } = readExport(path('history.ndjson'));
    expect(JSON.parse(header)).toMatchObject({ type: 'header', format: 'switchyard-history-export', version: 1, fromPosition: '1', toPosition: null });
    expect(rows.map((r) => r.position)).toEqual(rows.map((_, i) => String(i + 1)));
    expect(exported.stdout).toContain(`Exported ${rows.length} history rows (positions 1 to ${rows.length})`);
    expect(rows.some((r) => JSON.stringify(r).includes('\u2028'))).toBe(true);

    const { code, verdict } = await verifyBoth(path('history.ndjson'), checkpoint, key);
    expect(code).toBe(0);
    expect(verdict).toMatchObject({ ok: true, verdict: 'OK', checkedRows: rows.length, checkpointPosition: String(rows.length), line: null, checkpoints: 1 });

    const human = await cli(['verify-history', '--file', path('history.ndjson'), '--checkpoint', checkpoint, '--public-key', key], null);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`The chain extends the checkpoint at position ${rows.length}`);
  });

  it('an export to stdout, and a range that starts right after a checkpoint, verify against it and a later one', async () => {
    const key = await publicKeyFile();
    const first = JSON.parse(readFileSync(await checkpointFile('first.json'), 'utf8')) as { position: string };
    await createSlice(t.admin, { key: uniqueKey('api.later'), description: UNUSUAL });
    await t.admin.ok('mutation { rollbackAll(reason: "drill \u2028 😀") { count } }');
    const second = await checkpointFile('second.json');
    writeFileSync(path('both.ndjson'), readFileSync(path('first.json'), 'utf8') + readFileSync(second, 'utf8'));

    const from = String(Number(first.position) + 1);
    const stdout = await cli(['history', 'export', '--from', from]);
    expect(stdout.code).toBe(0);
    expect(stdout.stderr).toMatch(/^Exported \d+ history rows/);
    writeFileSync(path('range.ndjson'), stdout.stdout);
    const { code, verdict } = await verifyBoth(path('range.ndjson'), path('both.ndjson'), key);
    expect(code).toBe(0);
    expect(verdict).toMatchObject({ ok: true, checkpoints: 2 });
    expect(Number(verdict.checkedRows)).toBeGreaterThanOrEqual(2);

    // A range that does not reach back to the first checkpoint cannot vouch for it.
    const later = await cli(['history', 'export', '--from', String(Number(from) + 1)]);
    writeFileSync(path('later.ndjson'), later.stdout);
    expect((await verifyBoth(path('later.ndjson'), path('both.ndjson'), key)).verdict).toMatchObject({ ok: false, verdict: 'CHECKPOINT_OUT_OF_RANGE' });
    // Nor one that ends before the second.
    const early = await cli(['history', 'export', '--from', from, '--to', from]);
    writeFileSync(path('early.ndjson'), early.stdout);
    expect((await verifyBoth(path('early.ndjson'), second, key)).verdict).toMatchObject({ ok: false, verdict: 'CHECKPOINT_OUT_OF_RANGE' });
  });

  it('every tampering of the adversary fails, for both verifiers, with the same verdict (exit 5)', async () => {
    const key = await publicKeyFile();
    const checkpoint = await checkpointFile('tamper-checkpoint.json');
    await cli(['history', 'export', '--out', path('base.ndjson')]);
    const { header, rows } = readExport(path('base.ndjson'));
    const recompute = (changed: readonly HashedRow[]) => {
      let prevHash = GENESIS_HASH;
      return changed.map(({ hash: _, ...r }) => {
        const row = { ...r, prevHash };
        prevHash = chainHash(row);
        return { ...row, hash: prevHash };
      });
    };
    const strip = (r: HashedRow) => {
      const { type: _, ...rest } = r as HashedRow & { type?: string };
      return rest as HashedRow;
    };
    const clean = rows.map(strip);
    const victim = clean.findIndex((r) => r.action === 'ROLLOUT_SET');

    const cases: [string, HashedRow[] | string, Partial<Verdict>][] = [
      ['last-row-removed', clean.slice(0, -1), { verdict: 'TRUNCATED', checkpointPosition: null }],
      ['all-rows-removed', [], { verdict: 'TRUNCATED', checkedRows: 0 }],
      [
        'rewritten-and-recomputed',
        recompute(clean.map((r, i) => (i === victim ? { ...r, after: { ...(r.after as object), basisPoints: 10000 } } : r))),
        { verdict: 'CHECKPOINT_MISMATCH' },
      ],
      [
        'altered',
        clean.map((r, i) => (i === victim ? { ...r, reason: 'nothing to see' } : r)),
        { verdict: 'MISMATCH_AT_POSITION', firstBrokenPosition: clean[victim]!.position, line: victim + 2 },
      ],
      ['middle-row-removed', recompute(clean.filter((_, i) => i !== 2)), { verdict: 'MISMATCH_AT_POSITION', firstBrokenPosition: '3', line: 4 }],
      ['garbage-line', `${header}\n${JSON.stringify({ type: 'row', ...clean[0] })}\nnot json\n`, { verdict: 'MALFORMED', line: 3, problem: 'not JSON' }],
    ];
    for (const [name, content, expected] of cases) {
      const file = path(`${name}.ndjson`);
      if (typeof content === 'string') writeFileSync(file, content);
      else writeExport(file, header, content);
      const { code, verdict } = await verifyBoth(file, checkpoint, key);
      expect({ name, code }).toEqual({ name, code: 5 });
      expect(verdict).toMatchObject({ ok: false, ...expected });
    }

    // The checkpoint itself: altered, or from another key.
    const published = JSON.parse(readFileSync(checkpoint, 'utf8')) as Record<string, string>;
    writeFileSync(path('altered-checkpoint.json'), JSON.stringify({ ...published, signedAt: '2020-01-01T00:00:00.000Z' }));
    expect((await verifyBoth(path('base.ndjson'), path('altered-checkpoint.json'), key)).verdict).toMatchObject({ ok: false, verdict: 'BAD_SIGNATURE', checkedRows: 0 });
    const other = checkpointKeyFrom(generateCheckpointKey());
    const foreign = signCheckpoint(other, { position: published.position!, headHash: published.headHash!, signedAt: new Date() });
    writeFileSync(path('foreign-checkpoint.json'), JSON.stringify(foreign));
    expect((await verifyBoth(path('base.ndjson'), path('foreign-checkpoint.json'), key)).verdict).toMatchObject({ ok: false, verdict: 'WRONG_KEY' });
    writeFileSync(path('other.pub'), other.publicKeyPem);
    expect((await verifyBoth(path('base.ndjson'), checkpoint, path('other.pub'))).verdict).toMatchObject({ ok: false, verdict: 'WRONG_KEY' });

    const human = await cli(['verify-history', '--file', path('rewritten-and-recomputed.ndjson'), '--checkpoint', checkpoint, '--public-key', key], null);
    expect(human.code).toBe(5);
    expect(human.stdout).toContain('History REWRITTEN');
  });

  it('online: verify-history --checkpoint proves the service’s chain extends a published checkpoint, and refuses a forged one (exit 5)', async () => {
    const checkpoint = await checkpointFile('online.json');
    const ok = await cli(['verify-history', '--checkpoint', checkpoint, '--json']);
    expect(ok.code).toBe(0);
    const published = JSON.parse(readFileSync(checkpoint, 'utf8')) as { position: string; headHash: string };
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true, verdict: 'OK', checkpointPosition: published.position });
    writeFileSync(path('online-forged.json'), JSON.stringify({ ...JSON.parse(readFileSync(checkpoint, 'utf8')), headHash: 'f'.repeat(64) }));
    const forged = await cli(['verify-history', '--checkpoint', path('online-forged.json')]);
    expect(forged.code).toBe(5);
    expect(forged.stdout).toContain('NOT AUTHENTIC');
  });

  it('usage errors send nothing and exit 2: incomplete offline options, unreadable checkpoints and keys, an export over an existing file', async () => {
    const key = await publicKeyFile();
    const checkpoint = await checkpointFile('usage.json');
    await cli(['history', 'export', '--out', path('usage.ndjson')]);
    writeFileSync(path('not-a-checkpoint.json'), '{"position": 3}');
    const usages: string[][] = [
      ['verify-history', '--file', path('usage.ndjson')],
      ['verify-history', '--file', path('usage.ndjson'), '--checkpoint', checkpoint],
      ['verify-history', '--file', path('usage.ndjson'), '--checkpoint', path('not-a-checkpoint.json'), '--public-key', key],
      ['verify-history', '--file', path('usage.ndjson'), '--checkpoint', path('missing.json'), '--public-key', key],
      ['verify-history', '--file', path('usage.ndjson'), '--checkpoint', checkpoint, '--public-key', 'not-a-key'],
      ['verify-history', '--file', path('missing.ndjson'), '--checkpoint', checkpoint, '--public-key', key],
      ['verify-history', '--public-key', key],
      ['history', 'export', '--out', path('usage.ndjson')],
      ['history', 'export', '--json'],
      ['history', 'export', '--from', '5', '--to', '4'],
      ['history', 'export', '--from', '0'],
    ];
    for (const args of usages) {
      const result = await cli(args);
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
    }
    expect((await python(['--file', path('usage.ndjson'), '--checkpoint', path('not-a-checkpoint.json'), '--public-key', key])).code).toBe(2);
  });

  it('an sdk token may not export; a viewer may', async () => {
    const sdk = await t.tokenFor('sdk');
    expect((await cli(['history', 'export'], sdk)).code).toBe(3);
    expect((await cli(['history', 'export', '--to', '1'], ADMIN_TOKEN)).code).toBe(0);
  });
});
