import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { run } from '../../src/cli/program.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, evaluate, getSlice, sliceHistory, uniqueKey } from '../utils/operations.js';
import { pathOutcome } from '../utils/outcomes.js';
import { sliceServed } from '../utils/traffic.js';
import type { SliceOutcomesView } from '../../src/cli/commands/outcomes.commands.js';

/**
 * The `switchyard` CLI against the real service on a real port: `run()` in-process for every
 * command and failure (it is what main.ts calls), and the compiled bin as a child process.
 * Exit codes and JSON are asserted; messages only where they are the point (what to do).
 */
describe('switchyard CLI', () => {
  let t: TestApp;
  let viewer: string;
  let releaseManager: string;
  let responder: string;
  /** Every secret in play: no output may contain one. */
  const secrets = new Set<string>([ADMIN_TOKEN]);

  beforeAll(async () => {
    // Traffic is flushed every 50 ms so who-follows sees reports at once (ignored by services without traffic).
    t = await createTestApp({ SWITCHYARD_TRAFFIC_FLUSH_MS: '50' });
    viewer = await t.tokenFor('viewer', 'vera-viewer');
    releaseManager = await t.tokenFor('release-manager', 'ana-release-manager');
    responder = await t.tokenFor('incident-responder', 'on-call-sre');
    for (const s of [viewer, releaseManager, responder]) secrets.add(s);
  });
  afterAll(async () => {
    await t?.close();
  });

  interface Result {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
    json<T = unknown>(): T;
  }

  /** Runs the CLI in-process as `switchyard ...args`, with SWITCHYARD_URL and SWITCHYARD_TOKEN set (token null: unset). */
  async function cli(args: string[], options: { token?: string | null; env?: Record<string, string>; columns?: number } = {}): Promise<Result> {
    let stdout = '';
    let stderr = '';
    const token = options.token === undefined ? ADMIN_TOKEN : options.token;
    const code = await run(args, {
      stdout: { write: (s: string) => (stdout += s), isTTY: options.columns !== undefined, columns: options.columns },
      stderr: { write: (s: string) => (stderr += s) },
      env: { SWITCHYARD_URL: t.baseUrl, ...(token !== null ? { SWITCHYARD_TOKEN: token } : {}), ...options.env },
    });
    for (const secret of secrets) {
      expect(stdout).not.toContain(secret);
      expect(stderr).not.toContain(secret);
    }
    return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
  }

  interface CliSlice {
    key: string;
    state: string;
    percent: number;
    version: number;
    tags: string[];
    targeting: { include: string[]; exclude: string[]; rules: { segments: string[]; percent: number }[] };
  }
  interface CliError {
    error: { exitCode: number; code: string; errorCode: string | null; message: string; hint: string | null; [detail: string]: unknown };
  }

  describe('status', () => {
    it('lists every slice, following the pages, as a table and as JSON', async () => {
      const tag = uniqueKey('wave').replace(/[^a-z0-9-]/g, '-');
      // More than one page (the CLI asks for 500 at a time). Inserted directly: 503 createSlice
      // calls take some 15 s, and only reads follow (these slices have no history rows).
      const keys = Array.from({ length: 503 }, (_, i) => `${tag}.slice-${String(i).padStart(3, '0')}`);
      await t.dataSource.query(
        `INSERT INTO slices (key, tags, basis_points, targeting, state, version, created_at, updated_at)
         SELECT k, ARRAY[$2]::text[], (i % 3) * 100, '{"include":[],"exclude":[],"rules":[]}'::jsonb, 'ACTIVE', 1, now(), now()
           FROM unnest($1::text[]) WITH ORDINALITY AS u(k, n), LATERAL (SELECT (n - 1)::int AS i) AS x`,
        [keys, tag],
      );

      const json = await cli(['status', '--tag', tag, '--json']);
      expect(json.code).toBe(0);
      expect(json.stderr).toBe('');
      const slices = json.json<{ key: string; state: string; percent: number; tags: string[]; version: number; updatedAt: string }[]>();
      expect(slices.map((s) => s.key)).toEqual(keys);
      expect(slices[2]).toMatchObject({ state: 'ACTIVE', percent: 2, tags: [tag], version: 1 });

      const human = await cli(['status', '--tag', tag]);
      expect(human.code).toBe(0);
      const lines = human.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^KEY\s+STATE\s+PERCENT\s+TAGS\s+VERSION\s+UPDATED$/);
      expect(lines.filter((l) => l.startsWith(`${tag}.slice-`))).toHaveLength(503);
      expect(lines[3]).toMatch(new RegExp(`^${tag}\\.slice-002\\s+ACTIVE\\s+2%\\s+${tag}\\s+1\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ$`));
      expect(lines.at(-1)).toBe('503 slices: 503 active, 0 rolled back, 0 archived.');
      // Aligned: the STATE column starts at the same place on every row.
      const stateAt = lines[0]!.indexOf('STATE');
      for (const line of lines.slice(1, 504)) expect(line.slice(stateAt, stateAt + 6)).toBe('ACTIVE');

      expect((await cli(['status', '--tag', 'no-such-tag', '--json'])).json()).toEqual([]);
      expect((await cli(['status', '--tag', 'no-such-tag'])).stdout).toBe('No slice matches.\n');
    });

    it('shows one slice with its targeting', async () => {
      const staff = uniqueKey('staff');
      await createSegment(t.admin, staff, [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'] }]);
      const slice = await createSlice(t.admin, {
        key: uniqueKey('payments.provider'),
        percent: 12.5,
        owner: 'team-payments',
        tags: ['providers'],
        targeting: { include: [], exclude: [], rules: [{ segments: [staff], percent: 100 }] },
      });

      const human = await cli(['status', slice.key], { token: viewer });
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`${slice.key}\n`);
      expect(human.stdout).toMatch(/state\s+ACTIVE/);
      expect(human.stdout).toMatch(/rollout\s+12\.5% on NEW \(1250 basis points\)/);
      expect(human.stdout).toMatch(/owner\s+team-payments/);
      expect(human.stdout).toMatch(new RegExp(`rule 1\\s+${staff} -> 100%`));
      expect(human.stdout).toMatch(/otherwise\s+12\.5%/);

      const json = (await cli(['status', slice.key, '--json'])).json<CliSlice>();
      expect(json).toMatchObject({ key: slice.key, state: 'ACTIVE', percent: 12.5, version: 1, targeting: { rules: [{ segments: [staff], percent: 100 }] } });
    });

    it('fits its tables to the terminal, and prints text from the service without control characters', async () => {
      const key = uniqueKey('api.very-long-slice-key-for-a-narrow-terminal');
      await createSlice(t.admin, { key });
      const reason = `incident 42: \u001b[31mred\u001b[0m errors\non the new stack, ${'and a very long explanation '.repeat(5)}`;
      expect((await cli(['set', key, '7', '--reason', reason])).code).toBe(0);

      const narrow = await cli(['history', key], { columns: 80 });
      expect(narrow.code).toBe(0);
      const lines = narrow.stdout.trimEnd().split('\n');
      expect(lines).toHaveLength(3);
      for (const line of lines) expect([...line].length).toBeLessThanOrEqual(80);
      expect(lines[1]).toContain('…');
      expect(narrow.stdout).not.toContain('\u001b');

      // Piped (no terminal): nothing is cut, still one line per row.
      const piped = await cli(['history', key]);
      expect(piped.stdout.trimEnd().split('\n')).toHaveLength(3);
      expect(piped.stdout).toContain('and a very long explanation and a very long explanation');
      expect(piped.stdout).not.toContain('\u001b');
      // JSON keeps the reason exactly as recorded.
      expect((await cli(['history', key, '--json'])).json<{ reason: string }[]>()[0]!.reason).toBe(reason);
    });
  });

  describe('set', () => {
    it('moves the rollout, with --expected-version and --idempotency-key', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });

      const first = await cli(['set', slice.key, '5', '--reason', 'canary', '--expected-version', '1'], { token: releaseManager });
      expect(first).toMatchObject({ code: 0, stderr: '' });
      expect(first.stdout).toBe(`${slice.key}: 5% on NEW (version 2).\n`);

      const json = await cli(['set', slice.key, '0.25%', '--reason', 'quarter of a percent', '--idempotency-key', `k-${slice.key}`, '--json']);
      expect(json.code).toBe(0);
      expect(json.json<CliSlice>()).toMatchObject({ key: slice.key, percent: 0.25, version: 3 });
      // A retry with the same key returns the first result and writes nothing.
      const retry = await cli(['set', slice.key, '0.25', '--reason', 'quarter of a percent', '--idempotency-key', `k-${slice.key}`, '--json']);
      expect(retry.json<CliSlice>()).toMatchObject({ percent: 0.25, version: 3 });

      const history = await sliceHistory(t.admin, slice.key);
      expect(history.map((h) => [h.action, h.actor, h.reason])).toEqual([
        ['ROLLOUT_SET', 'bootstrap-admin', 'quarter of a percent'],
        ['ROLLOUT_SET', 'ana-release-manager', 'canary'],
        ['SLICE_CREATED', 'bootstrap-admin', null],
      ]);
      expect(history[0]!.idempotencyKey).toBe(`k-${slice.key}`);
      // Without --idempotency-key, the CLI sends one of its own, so a retry after a lost answer is safe.
      expect(history[1]!.idempotencyKey).toMatch(/^cli-[0-9a-f-]{36}$/);
    });

    it('a stale --expected-version is refused (exit 1) and says what to do', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      await cli(['set', slice.key, '5', '--reason', 'first']);
      const stale = await cli(['set', slice.key, '50', '--reason', 'second', '--expected-version', '1']);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain('[CONFLICT / SLICE_VERSION_CONFLICT]');
      expect(stale.stderr).toContain('--expected-version 2');
      const json = await cli(['set', slice.key, '50', '--reason', 'second', '--expected-version', '1', '--json']);
      expect(json.code).toBe(1);
      expect(json.json<CliError>().error).toMatchObject({ exitCode: 1, code: 'CONFLICT', errorCode: 'SLICE_VERSION_CONFLICT', currentVersion: 2 });
      expect((await getSlice(t.admin, slice.key)).percent).toBe(5);
    });

    it('a percent the service refuses exits 1; one that is not a number, or no --reason, exits 2 and sends nothing', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      for (const percent of ['150', '12.345']) {
        const refused = await cli(['set', slice.key, percent, '--reason', 'too much', '--json']);
        expect(refused.code).toBe(1);
        expect(refused.json<CliError>().error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'percent' });
      }
      for (const args of [
        ['set', slice.key, 'abc', '--reason', 'x'],
        ['set', slice.key, '5'],
        ['set', slice.key, '5', '--reason', '   '],
        ['set', slice.key],
        ['set', slice.key, '5', '--reason', 'x', '--expected-version', 'two'],
      ]) {
        const usage = await cli(args);
        expect(usage.code).toBe(2);
        expect(usage.stdout).toBe('');
        expect(usage.stderr).toMatch(/^error: /);
        expect(usage.stderr).toContain('switchyard set --help');
      }
      expect(await sliceHistory(t.admin, slice.key)).toHaveLength(1);
    });

    it('an unknown slice exits 1 (NOT_FOUND) and points at `status`', async () => {
      const result = await cli(['set', 'no.such.slice', '5', '--reason', 'x']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('[NOT_FOUND / SLICE_NOT_FOUND]');
      expect(result.stderr).toContain('switchyard status');
      expect((await cli(['status', 'no.such.slice', '--json'])).json<CliError>().error).toMatchObject({ exitCode: 1, code: 'NOT_FOUND' });
    });
  });

  describe('rollback and resume', () => {
    it('an incident responder rolls one slice back, and a release manager resumes it exactly', async () => {
      const staff = uniqueKey('staff');
      await createSegment(t.admin, staff, [{ attribute: 'userId', operator: 'IN', values: ['u1'] }]);
      const slice = await createSlice(t.admin, {
        key: uniqueKey('payments.provider'),
        percent: 37.5,
        targeting: { include: [staff], exclude: [], rules: [] },
      });

      const rolledBack = await cli(['rollback', slice.key, '--reason', '5xx at 12 % on the new stack'], { token: responder });
      expect(rolledBack.code).toBe(0);
      expect(rolledBack.stdout).toContain(`${slice.key}: ROLLED_BACK, everyone on LEGACY (version 2).`);
      expect(rolledBack.stdout).toContain(`switchyard resume ${slice.key}`);
      expect(await getSlice(t.admin, slice.key)).toMatchObject({ state: 'ROLLED_BACK', percent: 37.5 });

      // Rolling back again succeeds and changes nothing.
      const again = await cli(['rollback', slice.key, '--reason', 'again', '--json'], { token: responder });
      expect(again.json<CliSlice>()).toMatchObject({ state: 'ROLLED_BACK', version: 2 });

      // The responder may not resume: exit 3, and the hint names the role that may.
      const forbidden = await cli(['resume', slice.key, '--reason', 'fixed'], { token: responder });
      expect(forbidden.code).toBe(3);
      expect(forbidden.stderr).toContain('[FORBIDDEN]');
      expect(forbidden.stderr).toContain('incident-responder');
      expect(forbidden.stderr).toContain('release-manager');

      const resumed = await cli(['resume', slice.key, '--reason', 'fixed in v2.0.1', '--expected-version', '2', '--json'], { token: releaseManager });
      expect(resumed.code).toBe(0);
      expect(resumed.json<CliSlice>()).toMatchObject({ state: 'ACTIVE', percent: 37.5, version: 3, targeting: { include: [staff] } });

      const notRolledBack = await cli(['resume', slice.key, '--reason', 'twice'], { token: releaseManager });
      expect(notRolledBack.code).toBe(1);
      expect(notRolledBack.stderr).toContain('SLICE_NOT_ROLLED_BACK');

      const history = await sliceHistory(t.admin, slice.key);
      expect(history.map((h) => [h.action, h.actor, h.reason])).toEqual([
        ['SLICE_RESUMED', 'ana-release-manager', 'fixed in v2.0.1'],
        ['SLICE_ROLLED_BACK', 'on-call-sre', '5xx at 12 % on the new stack'],
        ['SLICE_CREATED', 'bootstrap-admin', null],
      ]);
    });

    it('--segment rolls one segment back (responder) and resumes it (release manager); the rest of the slice is untouched', async () => {
      const kenya = uniqueKey('kenya');
      await createSegment(t.admin, kenya, [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider'), percent: 100 });
      const rolledBack = await cli(['rollback', slice.key, '--segment', kenya, '--reason', 'callbacks failing in KE'], { token: responder });
      expect(rolledBack.code).toBe(0);
      expect(rolledBack.stdout).toContain(`${slice.key}: segment ${kenya} on LEGACY`);
      expect(rolledBack.stdout).toContain(`switchyard resume ${slice.key} --segment ${kenya}`);
      expect(await evaluate(t.admin, slice.key, { userId: 'u1', country: 'KE' })).toMatchObject({ path: 'LEGACY', reason: 'SEGMENT_ROLLED_BACK' });
      expect(await evaluate(t.admin, slice.key, { userId: 'u1', country: 'GH' })).toMatchObject({ path: 'NEW', reason: 'ROLLOUT' });

      const unknown = await cli(['rollback', slice.key, '--segment', 'no.such.segment', '--reason', 'x'], { token: responder });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('UNKNOWN_SEGMENT_REFERENCE');
      const usage = await cli(['rollback', '--all', '--segment', kenya, '--reason', 'x'], { token: responder });
      expect(usage.code).toBe(2);

      const forbidden = await cli(['resume', slice.key, '--segment', kenya, '--reason', 'fixed'], { token: responder });
      expect(forbidden.code).toBe(3);
      const resumed = await cli(['resume', slice.key, '--segment', kenya, '--reason', 'fixed', '--json'], { token: releaseManager });
      expect(resumed.code).toBe(0);
      expect(resumed.json<CliSlice & { rolledBackSegments: string[] }>()).toMatchObject({ state: 'ACTIVE', rolledBackSegments: [] });
      expect(await evaluate(t.admin, slice.key, { userId: 'u1', country: 'KE' })).toMatchObject({ path: 'NEW', reason: 'ROLLOUT' });
      const twice = await cli(['resume', slice.key, '--segment', kenya, '--reason', 'twice'], { token: releaseManager });
      expect(twice.code).toBe(1);
      expect(twice.stderr).toContain('SLICE_SEGMENT_NOT_ROLLED_BACK');
      expect((await sliceHistory(t.admin, slice.key)).map((h) => h.action)).toEqual(['SEGMENT_RESUMED', 'SEGMENT_ROLLED_BACK', 'SLICE_CREATED']);
      const history = await cli(['history', slice.key]);
      expect(history.stdout).toContain(`segment ${kenya} rolled back`);
      expect(history.stdout).toContain(`segment ${kenya} resumed`);
    });

    it('a rolled-back slice refuses `set` (exit 1) and the hint says to resume first', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider'), percent: 5 });
      await cli(['rollback', slice.key, '--reason', 'incident']);
      const refused = await cli(['set', slice.key, '10', '--reason', 'more']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('SLICE_NOT_ACTIVE');
      expect(refused.stderr).toContain(`switchyard resume ${slice.key}`);
    });

    it('rollback --all --tag sends every ACTIVE slice with the tag back, with no question asked, and prints them', async () => {
      const tag = uniqueKey('providers').replace(/[^a-z0-9-]/g, '-');
      const tagged = [await createSlice(t.admin, { key: uniqueKey('p'), tags: [tag], percent: 10 }), await createSlice(t.admin, { key: uniqueKey('p'), tags: [tag] })];
      const other = await createSlice(t.admin, { key: uniqueKey('p'), tags: ['unrelated'], percent: 10 });

      const result = await cli(['rollback', '--all', '--tag', tag, '--reason', 'provider outage'], { token: responder });
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Rolled back 2 slices with tag ${tag}`);
      for (const s of tagged) {
        expect(result.stdout).toContain(`  ${s.key}\n`);
        expect((await getSlice(t.admin, s.key)).state).toBe('ROLLED_BACK');
      }
      expect((await getSlice(t.admin, other.key)).state).toBe('ACTIVE');

      const nothingLeft = await cli(['rollback', '--all', '--tag', tag, '--reason', 'again', '--json'], { token: responder });
      expect(nothingLeft.code).toBe(0);
      expect(nothingLeft.json()).toEqual({ count: 0, sliceKeys: [], tag, idempotencyKey: expect.stringMatching(/^cli-/) });
      expect((await cli(['rollback', '--all', '--tag', tag, '--reason', 'again'], { token: responder })).stdout).toBe(`Nothing to roll back: no ACTIVE slice with tag ${tag}.\n`);
    });

    it('rollback needs one slice or --all, and --tag only with --all (exit 2, nothing sent)', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      for (const args of [
        ['rollback', '--reason', 'x'],
        ['rollback', slice.key, '--all', '--reason', 'x'],
        ['rollback', slice.key, '--tag', 'providers', '--reason', 'x'],
        ['rollback', slice.key],
        ['rollback', '--all'],
      ]) {
        const usage = await cli(args);
        expect(usage.code).toBe(2);
        expect(usage.stdout).toBe('');
      }
      expect((await getSlice(t.admin, slice.key)).state).toBe('ACTIVE');
    });
  });

  describe('history', () => {
    it('lists a slice’s changes newest first, with --limit, as a table and as JSON', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      for (const percent of ['1', '2', '3']) await cli(['set', slice.key, percent, '--reason', `step to ${percent}`], { token: releaseManager });

      const human = await cli(['history', slice.key, '--limit', '3'], { token: viewer });
      expect(human.code).toBe(0);
      const lines = human.stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(/^SEQUENCE\s+TIME\s+ACTION\s+ACTOR\s+CHANGE\s+REASON$/);
      expect(lines).toHaveLength(4);
      expect(lines[1]).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\s+ROLLOUT_SET\s+ana-release-manager\s+2% -> 3%\s+step to 3$/);
      expect(lines[3]).toMatch(/ROLLOUT_SET\s+ana-release-manager\s+0% -> 1%\s+step to 1$/);

      const json = (await cli(['history', slice.key, '--json'])).json<{ sequence: string; action: string; actor: string; reason: string | null; hash: string }[]>();
      expect(json.map((e) => e.action)).toEqual(['ROLLOUT_SET', 'ROLLOUT_SET', 'ROLLOUT_SET', 'SLICE_CREATED']);
      expect(json.map((e) => Number(e.sequence))).toEqual([...json.map((e) => Number(e.sequence))].sort((a, b) => b - a));
      expect(json[0]).toMatchObject({ actor: 'ana-release-manager', reason: 'step to 3', hash: expect.stringMatching(/^[0-9a-f]{64}$/) });

      expect((await cli(['history', slice.key, '--limit', '0'])).code).toBe(2);
      expect((await cli(['history', 'no.such.slice'])).stdout).toBe('No recorded change for no.such.slice.\n');
    });

    it('without a slice: every change, global ones (rollbackAll) included', async () => {
      const tag = uniqueKey('global').replace(/[^a-z0-9-]/g, '-');
      await createSlice(t.admin, { key: uniqueKey('p'), tags: [tag] });
      await cli(['rollback', '--all', '--tag', tag, '--reason', 'global check']);
      const human = await cli(['history', '--limit', '2']);
      expect(human.stdout.split('\n')[0]).toMatch(/^SEQUENCE\s+TIME\s+SUBJECT\s+ACTION/);
      expect(human.stdout).toMatch(new RegExp(`ROLLBACK_ALL\\s+bootstrap-admin\\s+1 slice tagged ${tag}\\s+global check`));
      const json = (await cli(['history', '--limit', '2', '--json'])).json<{ action: string; sliceKey: string | null }[]>();
      expect(json[0]).toMatchObject({ action: 'ROLLBACK_ALL', sliceKey: null });
    });
  });

  describe('slice create, update and archive', () => {
    it('a release manager creates a slice with every option; a retry with the same key writes nothing', async () => {
      const key = uniqueKey('payments.provider');
      const args = ['slice', 'create', key, '--percent', '2.5', '--description', 'M-Pesa on the new stack', '--owner', 'team-payments'];
      args.push('--tag', 'providers', '--tag', 'mobile-money,east-africa', '--stickiness', 'accountId', '--reason', 'new provider path');
      const created = await cli([...args, '--idempotency-key', `create-${key}`, '--json'], { token: releaseManager });
      expect(created.code).toBe(0);
      expect(created.json()).toMatchObject({
        key,
        state: 'ACTIVE',
        percent: 2.5,
        description: 'M-Pesa on the new stack',
        owner: 'team-payments',
        tags: ['providers', 'mobile-money', 'east-africa'],
        stickinessAttribute: 'accountId',
        version: 1,
        idempotencyKey: `create-${key}`,
      });
      const retry = await cli([...args, '--idempotency-key', `create-${key}`, '--json'], { token: releaseManager });
      expect(retry.json()).toMatchObject({ key, version: 1 });
      const history = await sliceHistory(t.admin, key);
      expect(history.map((h) => [h.action, h.actor, h.reason, h.idempotencyKey])).toEqual([['SLICE_CREATED', 'ana-release-manager', 'new provider path', `create-${key}`]]);

      // Without options: the API's defaults; the human line says what it is now.
      const plain = uniqueKey('api.get-balance');
      const human = await cli(['slice', 'create', plain], { token: releaseManager });
      expect(human).toMatchObject({ code: 0, stderr: '' });
      expect(human.stdout).toBe(`${plain}: created, ACTIVE, 0% on NEW, stickiness userId (version 1).\n`);
      expect((await sliceHistory(t.admin, plain))[0]!.idempotencyKey).toMatch(/^cli-[0-9a-f-]{36}$/);
    });

    it('refuses an existing key (1), a key the service does not accept (1), a bad percent (2), a viewer (3)', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      const exists = await cli(['slice', 'create', slice.key, '--json']);
      expect(exists.code).toBe(1);
      expect(exists.json<CliError>().error).toMatchObject({ code: 'CONFLICT', errorCode: 'SLICE_ALREADY_EXISTS' });
      expect(exists.stderr).toContain(`switchyard status ${slice.key}`);
      const badKey = await cli(['slice', 'create', 'Payments.Upper', '--json']);
      expect(badKey.code).toBe(1);
      expect(badKey.json<CliError>().error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'key' });
      expect((await cli(['slice', 'create', uniqueKey('p'), '--percent', 'half'])).code).toBe(2);
      expect((await cli(['slice', 'create', uniqueKey('p')], { token: viewer })).code).toBe(3);
    });

    it('update changes only what it is given; --clear-tags; --expected-version; nothing to update is a usage error', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider'), owner: 'team-a', description: 'first', tags: ['x', 'y'] });
      const owner = await cli(['slice', 'update', slice.key, '--owner', 'team-payments', '--reason', 'reorg'], { token: releaseManager });
      expect(owner).toMatchObject({ code: 0, stdout: `${slice.key}: owner saved (version 2).\n` });
      expect(await getSlice(t.admin, slice.key)).toMatchObject({ owner: 'team-payments', description: 'first', tags: ['x', 'y'] });

      const tags = await cli(['slice', 'update', slice.key, '--tag', 'providers', '--description', '', '--expected-version', '2', '--json']);
      expect(tags.json()).toMatchObject({ tags: ['providers'], description: '', owner: 'team-payments', version: 3 });
      expect((await cli(['slice', 'update', slice.key, '--clear-tags', '--json'])).json()).toMatchObject({ tags: [], version: 4 });

      const stale = await cli(['slice', 'update', slice.key, '--owner', 'someone', '--expected-version', '2', '--json']);
      expect(stale.code).toBe(1);
      expect(stale.json<CliError>().error).toMatchObject({ errorCode: 'SLICE_VERSION_CONFLICT', currentVersion: 4 });
      const badTag = await cli(['slice', 'update', slice.key, '--tag', 'Not A Tag', '--json']);
      expect(badTag.code).toBe(1);
      expect(badTag.json<CliError>().error).toMatchObject({ code: 'BAD_USER_INPUT' });

      for (const usage of [
        ['slice', 'update', slice.key],
        ['slice', 'update', slice.key, '--tag', 'a', '--clear-tags'],
        ['slice', 'update', slice.key, '--tag', 'a,,b'],
        ['slice', 'update'],
      ]) {
        const result = await cli(usage);
        expect(result.code).toBe(2);
        expect(result.stdout).toBe('');
      }
      expect((await getSlice(t.admin, slice.key)).version).toBe(4);
    });

    it('archive needs a reason; an archived slice sends everyone to LEGACY and can no longer change', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider'), percent: 100 });
      expect((await cli(['slice', 'archive', slice.key])).code).toBe(2);
      expect((await cli(['slice', 'archive', slice.key, '--reason', 'done'], { token: viewer })).code).toBe(3);
      expect((await cli(['slice', 'archive', slice.key, '--reason', 'done', '--expected-version', '7'])).code).toBe(1);

      const archived = await cli(['slice', 'archive', slice.key, '--reason', 'migration complete', '--expected-version', '1'], { token: releaseManager });
      expect(archived).toMatchObject({ code: 0, stdout: `${slice.key}: ARCHIVED, everyone on LEGACY; it can no longer change (version 2).\n` });
      expect(await evaluate(t.admin, slice.key, { userId: '42' })).toMatchObject({ path: 'LEGACY', reason: 'ARCHIVED' });
      expect((await sliceHistory(t.admin, slice.key))[0]).toMatchObject({ action: 'SLICE_ARCHIVED', reason: 'migration complete' });

      const refused = await cli(['set', slice.key, '50', '--reason', 'again', '--json']);
      expect(refused.code).toBe(1);
      expect(refused.json<CliError>().error.code).toBe('CONFLICT');
    });
  });

  describe('segments', () => {
    interface CliSegment {
      key: string;
      description: string;
      version: number;
      usedBy: string[];
      constraints: { attribute: string; operator: string; values: string[]; inverted: boolean; caseInsensitive: boolean }[];
      idempotencyKey?: string;
    }

    it('list follows every page (100 at a time), in key order', async () => {
      const prefix = uniqueKey('paged');
      // Inserted directly, as in the status test: 205 createSegment calls would take seconds, and only reads follow.
      const keys = Array.from({ length: 205 }, (_, i) => `${prefix}.s-${String(i).padStart(3, '0')}`);
      await t.dataSource.query(
        `INSERT INTO segments (key, description, constraints, version, created_at, updated_at)
         SELECT k, '', '[{"attribute":"country","operator":"IN","values":["KE"]}]'::jsonb, 1, now(), now() FROM unnest($1::text[]) AS u(k)`,
        [keys],
      );
      const listed = await cli(['segment', 'list', '--json'], { token: viewer });
      expect(listed.code).toBe(0);
      const all = listed.json<CliSegment[]>().map((s) => s.key);
      expect(all.filter((k) => k.startsWith(`${prefix}.`))).toEqual(keys);
      expect(all).toEqual([...all].sort());
    });

    it('creates one from --constraint flags, with --inverted and --case-insensitive on the constraint before them', async () => {
      const key = uniqueKey('staff');
      const result = await cli(
        [
          'segment',
          'create',
          key,
          '--constraint',
          'email STR_ENDS_WITH @example.com',
          '--case-insensitive',
          '--constraint',
          'city IN "Dar es Salaam",Nairobi, Kampala',
          '--constraint',
          'country in KE',
          '--inverted',
          '--constraint',
          'appVersion SEMVER_GTE 2.3.0',
          '--description',
          'staff outside Kenya',
          '--reason',
          'staff first',
          '--json',
        ],
        { token: releaseManager },
      );
      expect(result.code).toBe(0);
      const segment = result.json<CliSegment>();
      expect(segment).toMatchObject({ key, description: 'staff outside Kenya', version: 1, usedBy: [], idempotencyKey: expect.stringMatching(/^cli-/) });
      expect(segment.constraints).toEqual([
        { attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'], inverted: false, caseInsensitive: true },
        { attribute: 'city', operator: 'IN', values: ['Dar es Salaam', 'Nairobi', 'Kampala'], inverted: false, caseInsensitive: false },
        { attribute: 'country', operator: 'IN', values: ['KE'], inverted: true, caseInsensitive: false },
        { attribute: 'appVersion', operator: 'SEMVER_GTE', values: ['2.3.0'], inverted: false, caseInsensitive: false },
      ]);

      // It means what the flags said: the decision honours case-insensitivity and inversion.
      const slice = await createSlice(t.admin, { key: uniqueKey('p'), targeting: { include: [key], exclude: [], rules: [] } });
      const who = { email: 'Ana@EXAMPLE.com', city: 'Dar es Salaam', appVersion: '2.4.0', userId: 'u1' };
      expect(await evaluate(t.admin, slice.key, { ...who, country: 'TZ' })).toMatchObject({ path: 'NEW', reason: 'INCLUDED' });
      expect(await evaluate(t.admin, slice.key, { ...who, country: 'KE' })).toMatchObject({ path: 'LEGACY' });

      // show prints each constraint in the --constraint form.
      const shown = await cli(['segment', 'show', key], { token: viewer });
      expect(shown.code).toBe(0);
      expect(shown.stdout).toMatch(/used by\s+/);
      expect(shown.stdout).toContain(slice.key);
      expect(shown.stdout).toMatch(/1\s+email STR_ENDS_WITH @example\.com \(case-insensitive\)\n/);
      expect(shown.stdout).toMatch(/2\s+city IN "Dar es Salaam",Nairobi,Kampala\n/);
      expect(shown.stdout).toMatch(/3\s+country IN KE \(inverted\)\n/);
      expect((await cli(['segment', 'show', key, '--json'])).json<CliSegment>()).toMatchObject({ key, usedBy: [slice.key] });
    });

    it('creates one from a YAML or a JSON file', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-segments-'));
      try {
        const yamlFile = join(dir, 'kenya.yaml');
        writeFileSync(
          yamlFile,
          'description: Kenyan accounts\nconstraints:\n  - attribute: country\n    operator: IN\n    values: [KE]\n  - attribute: appVersion\n    operator: SEMVER_GT\n    values: [1.10.0]\n',
        );
        const fromYaml = await cli(['segment', 'create', uniqueKey('kenya'), '--file', yamlFile, '--json']);
        expect(fromYaml.code).toBe(0);
        expect(fromYaml.json<CliSegment>()).toMatchObject({
          description: 'Kenyan accounts',
          constraints: [
            { attribute: 'country', operator: 'IN', values: ['KE'] },
            { attribute: 'appVersion', operator: 'SEMVER_GT', values: ['1.10.0'] },
          ],
        });

        const jsonFile = join(dir, 'beta.json');
        writeFileSync(jsonFile, JSON.stringify([{ attribute: 'userId', operator: 'IN', values: ['u1', 'u2'], caseInsensitive: false }]));
        const key = uniqueKey('beta');
        const fromJson = await cli(['segment', 'create', key, '--file', jsonFile, '--description', 'beta testers']);
        expect(fromJson).toMatchObject({ code: 0, stdout: `segment ${key}: created with 1 constraint (version 1).\n` });

        // A file the CLI cannot read as constraints: exit 2, the file and the line named, nothing sent.
        const bad = join(dir, 'bad.yaml');
        writeFileSync(bad, 'constraints:\n  - attribute: country\n    operator: IN\n    value: [KE]\n');
        const badKey = uniqueKey('bad');
        const refused = await cli(['segment', 'create', badKey, '--file', bad, '--json']);
        expect(refused.code).toBe(2);
        expect(refused.json<CliError>().error).toMatchObject({ exitCode: 2, code: 'USAGE' });
        expect(refused.stderr).toContain(`${bad}:4:`);
        for (const args of [
          ['--file', join(dir, 'missing.yaml')],
          ['--file', yamlFile, '--description', 'two descriptions'],
          ['--file', yamlFile, '--constraint', 'country IN KE'],
        ]) {
          expect((await cli(['segment', 'create', badKey, ...args])).code).toBe(2);
        }
        expect((await cli(['segment', 'show', badKey, '--json'])).json<CliError>().error).toMatchObject({ exitCode: 1, errorCode: 'SEGMENT_NOT_FOUND' });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('flags the CLI cannot read exit 2 before anything is sent; values the service refuses exit 1 naming the flag', async () => {
      const key = uniqueKey('refused');
      for (const args of [
        [],
        ['--inverted', '--constraint', 'country IN KE'],
        ['--constraint', 'country'],
        ['--constraint', 'country ISIN KE'],
        ['--constraint', 'city IN Dar es Salaam'],
        ['--constraint', 'country IN KE,'],
      ]) {
        const result = await cli(['segment', 'create', key, ...args]);
        expect(result.code).toBe(2);
        expect(result.stdout).toBe('');
        expect(result.stderr).toMatch(/^error: /);
      }
      const refused = await cli(['segment', 'create', key, '--constraint', 'country IN KE', '--constraint', 'appVersion SEMVER_GT v2', '--json']);
      expect(refused.code).toBe(1);
      expect(refused.json<CliError>().error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'constraints[1].values[0]' });
      expect(refused.stderr).toContain('the 2nd --constraint ("appVersion SEMVER_GT v2")');
      expect((await cli(['segment', 'create', key, '--constraint', 'country IN KE'], { token: responder })).code).toBe(3);
      expect((await cli(['segment', 'show', key])).code).toBe(1);
    });

    it('update replaces constraints or the description; list shows every segment and how many slices use it; delete refuses one in use', async () => {
      const key = uniqueKey('kenya');
      await createSegment(t.admin, key, [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
      const slice = await createSlice(t.admin, { key: uniqueKey('p'), targeting: { include: [], exclude: [], rules: [{ segments: [key], percent: 20 }] } });

      const updated = await cli(['segment', 'update', key, '--constraint', 'country IN KE,UG', '--expected-version', '1', '--reason', 'Uganda too'], { token: releaseManager });
      expect(updated.code).toBe(0);
      expect(updated.stdout).toBe(`segment ${key}: saved, 1 constraint (version 2); in effect now in 1 slice: ${slice.key}.\n`);
      const described = (await cli(['segment', 'update', key, '--description', 'East Africa', '--json'])).json<CliSegment>();
      expect(described).toMatchObject({ description: 'East Africa', version: 3, constraints: [{ values: ['KE', 'UG'] }] });
      const stale = await cli(['segment', 'update', key, '--description', 'x', '--expected-version', '1']);
      expect(stale.code).toBe(1);
      expect(stale.stderr).toContain('SEGMENT_VERSION_CONFLICT');
      expect(stale.stderr).toContain('--expected-version 3');
      expect((await cli(['segment', 'update', key])).code).toBe(2);

      const listed = await cli(['segment', 'list', '--json'], { token: viewer });
      expect(listed.code).toBe(0);
      expect(listed.json<CliSegment[]>().find((s) => s.key === key)).toMatchObject({ usedBy: [slice.key], version: 3 });
      const table = await cli(['segment', 'list'], { token: viewer });
      expect(table.stdout.split('\n')[0]).toMatch(/^KEY\s+SLICES\s+VERSION\s+UPDATED\s+CONSTRAINTS$/);
      expect(table.stdout).toMatch(new RegExp(`^${key.replace(/\./g, '\\.')}\\s+1\\s+3\\s+\\S+ \\S+\\s+country IN KE,UG$`, 'm'));
      expect(table.stdout).toMatch(/^\d+ segments?(; \d+ used by no slice)?\.$/m);

      const inUse = await cli(['segment', 'delete', key, '--json']);
      expect(inUse.code).toBe(1);
      expect(inUse.json<CliError>().error).toMatchObject({ errorCode: 'SEGMENT_IN_USE' });
      expect(inUse.stderr).toContain(slice.key);

      expect((await cli(['targeting', 'set', slice.key, '--clear', '--reason', 'Kenya done'])).code).toBe(0);
      const deleted = await cli(['segment', 'delete', key, '--expected-version', '3', '--reason', 'unused'], { token: releaseManager });
      expect(deleted).toMatchObject({ code: 0, stdout: `segment ${key}: deleted (it was at version 3).\n` });
      expect((await cli(['segment', 'delete', key])).code).toBe(1);
    });
  });

  describe('targeting set', () => {
    it('sets exclude, include and ordered rules from flags, and prints them in decision order', async () => {
      const [salaryRun, staff, kenya, android] = [uniqueKey('salary-run'), uniqueKey('staff'), uniqueKey('kenya'), uniqueKey('android')];
      await createSegment(t.admin, salaryRun, [{ attribute: 'accountId', operator: 'IN', values: ['corp-1'] }]);
      await createSegment(t.admin, staff, [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@example.com'] }]);
      await createSegment(t.admin, kenya, [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
      await createSegment(t.admin, android, [{ attribute: 'platform', operator: 'IN', values: ['android'] }]);
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider'), percent: 5 });

      const result = await cli(
        [
          'targeting',
          'set',
          slice.key,
          '--exclude',
          salaryRun,
          '--include',
          staff,
          '--rule',
          `${kenya},${android}=50`,
          '--rule',
          `${kenya}=20%`,
          '--reason',
          'Kenya first',
          '--expected-version',
          '1',
        ],
        { token: releaseManager },
      );
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`${slice.key}: targeting saved (version 2), stickiness userId.`);
      expect(result.stdout).toMatch(new RegExp(`exclude\\s+${salaryRun.replace(/\./g, '\\.')} \\(forced to LEGACY; always wins\\)`));
      expect(result.stdout).toMatch(new RegExp(`rule 1\\s+${kenya.replace(/\./g, '\\.')} \\+ ${android.replace(/\./g, '\\.')} -> 50%`));
      expect(result.stdout).toMatch(/otherwise\s+5%/);
      expect((await getSlice(t.admin, slice.key)).targeting).toEqual({
        include: [staff],
        exclude: [salaryRun],
        rules: [
          { segments: [kenya, android], percent: 50, basisPoints: 5000 },
          { segments: [kenya], percent: 20, basisPoints: 2000 },
        ],
      });
      expect((await sliceHistory(t.admin, slice.key))[0]).toMatchObject({ action: 'TARGETING_SET', actor: 'ana-release-manager', reason: 'Kenya first' });
      expect(await evaluate(t.admin, slice.key, { userId: 'u1', accountId: 'corp-1', email: 'a@example.com' })).toMatchObject({ path: 'LEGACY', reason: 'EXCLUDED' });

      // Repeated --include and comma lists are the same thing; --clear empties it on purpose.
      const both = await cli(['targeting', 'set', slice.key, '--include', staff, '--include', `${kenya},${android}`, '--reason', 'wider', '--json']);
      expect(both.json<CliSlice>().targeting).toEqual({ include: [staff, kenya, android], exclude: [], rules: [] });
      const cleared = await cli(['targeting', 'set', slice.key, '--clear', '--stickiness', 'accountId', '--reason', 'everyone on the rollout', '--json']);
      expect(cleared.json()).toMatchObject({ stickinessAttribute: 'accountId', targeting: { include: [], exclude: [], rules: [] }, version: 4 });
    });

    it('reads a targeting file; a retry with the same key writes nothing', async () => {
      const kenya = uniqueKey('kenya');
      await createSegment(t.admin, kenya, [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-targeting-'));
      try {
        const file = join(dir, 'targeting.yaml');
        writeFileSync(file, `exclude: []\nrules:\n  - segments: [${kenya}]\n    percent: 20\nstickinessAttribute: accountId\n`);
        const args = ['targeting', 'set', slice.key, '--file', file, '--reason', 'from the file', '--idempotency-key', `t-${slice.key}`, '--json'];
        const first = await cli(args);
        expect(first.code).toBe(0);
        expect(first.json()).toMatchObject({
          stickinessAttribute: 'accountId',
          version: 2,
          targeting: { rules: [{ segments: [kenya], percent: 20 }] },
          idempotencyKey: `t-${slice.key}`,
        });
        expect((await cli(args)).json()).toMatchObject({ version: 2 });
        expect(await sliceHistory(t.admin, slice.key)).toHaveLength(2);

        // A rule the service refuses: exit 1, and the hint points at the line of the file.
        writeFileSync(file, `rules:\n  - segments: [${kenya}]\n    percent: 150\n`);
        const refused = await cli(['targeting', 'set', slice.key, '--file', file, '--reason', 'too much', '--json']);
        expect(refused.code).toBe(1);
        expect(refused.json<CliError>().error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'rules[0].percent' });
        expect(refused.stderr).toContain(`in ${file} (the rule at line 2)`);

        writeFileSync(file, `rules:\n  - segment: [${kenya}]\n    percent: 20\n`);
        expect((await cli(['targeting', 'set', slice.key, '--file', file, '--reason', 'typo'])).code).toBe(2);
        expect((await cli(['targeting', 'set', slice.key, '--file', file, '--include', kenya, '--reason', 'both'])).code).toBe(2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('refuses: no --reason or no targeting (2), an unknown segment or a stale version (1), an incident responder (3)', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      for (const args of [
        ['--include', 'staff'],
        ['--reason', 'nothing'],
        ['--stickiness', 'accountId', '--reason', 'only this'],
        ['--rule', 'kenya', '--reason', 'no percent'],
        ['--rule', '=20', '--reason', 'no segment'],
        ['--clear', '--include', 'staff', '--reason', 'both'],
      ]) {
        const usage = await cli(['targeting', 'set', slice.key, ...args]);
        expect(usage.code).toBe(2);
        expect(usage.stdout).toBe('');
      }
      const unknown = await cli(['targeting', 'set', slice.key, '--include', 'no-such-segment', '--reason', 'x', '--json']);
      expect(unknown.code).toBe(1);
      expect(unknown.json<CliError>().error).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'UNKNOWN_SEGMENT_REFERENCE' });
      expect(unknown.stderr).toContain('switchyard segment create');
      expect((await cli(['targeting', 'set', slice.key, '--clear', '--reason', 'x', '--expected-version', '9'])).code).toBe(1);
      expect((await cli(['targeting', 'set', slice.key, '--clear', '--reason', 'x'], { token: responder })).code).toBe(3);
      expect(await sliceHistory(t.admin, slice.key)).toHaveLength(1);
    });
  });

  describe('tokens', () => {
    interface CliToken {
      id: string;
      name: string;
      role: string;
      active: boolean;
      expiresAt: string | null;
      revokedAt: string | null;
    }

    it('an admin creates a token: the secret alone on stdout, once; the token works with its role', async () => {
      const name = `ci deploy ${Date.now()}`;
      const idempotencyKey = `tok-${Date.now()}`;
      const created = await cli(['token', 'create', name, '--role', 'release-manager', '--reason', 'for the pipeline', '--idempotency-key', idempotencyKey]);
      expect(created.code).toBe(0);
      const secret = created.stdout.trimEnd();
      expect(created.stdout).toBe(`${secret}\n`);
      expect(secret).not.toContain(' ');
      secrets.add(secret);
      expect(created.stderr).toContain(`Created token "${name}" (RELEASE_MANAGER`);

      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      expect((await cli(['set', slice.key, '5', '--reason', 'with the new token'], { token: secret })).code).toBe(0);
      expect((await sliceHistory(t.admin, slice.key))[0]!.actor).toBe(name);
      expect((await cli(['token', 'list'], { token: secret })).code).toBe(3);

      // The same key again: the token of the first run, without its secret (it is not kept).
      const retry = await cli(['token', 'create', name, '--role', 'release-manager', '--reason', 'for the pipeline', '--idempotency-key', idempotencyKey, '--json']);
      expect(retry.code).toBe(0);
      expect(retry.json()).toMatchObject({ secret: null, token: { name, role: 'RELEASE_MANAGER', active: true }, idempotencyKey });
      const retryHuman = await cli(['token', 'create', name, '--role', 'release-manager', '--reason', 'for the pipeline', '--idempotency-key', idempotencyKey]);
      expect(retryHuman).toMatchObject({ code: 0, stdout: '' });
      expect(retryHuman.stderr).toContain('not kept');

      const taken = await cli(['token', 'create', name, '--role', 'viewer', '--json']);
      expect(taken.code).toBe(1);
      expect(taken.json<CliError>().error).toMatchObject({ errorCode: 'TOKEN_NAME_TAKEN' });
    });

    it('--json carries the secret and the token; --expires-at shows in the list', async () => {
      const name = `expiring-${Date.now()}`;
      const expiresAt = new Date(Date.now() + 30 * 86_400_000);
      expiresAt.setUTCMilliseconds(0);
      const created = await cli(['token', 'create', name, '--role', 'VIEWER', '--expires-at', expiresAt.toISOString().replace('.000Z', 'Z'), '--json']);
      expect(created.code).toBe(0);
      const body = created.json<{ secret: string; token: CliToken }>();
      secrets.add(body.secret);
      expect(body.token).toMatchObject({ name, role: 'VIEWER', active: true, expiresAt: expiresAt.toISOString() });

      const list = await cli(['token', 'list', '--json']);
      expect(list.code).toBe(0);
      expect(list.json<CliToken[]>().find((t) => t.name === name)).toMatchObject({ id: body.token.id, expiresAt: expiresAt.toISOString() });
      const human = await cli(['token', 'list']);
      expect(human.stdout.split('\n')[0]).toMatch(/^NAME\s+ROLE\s+STATUS\s+EXPIRES\s+CREATED\s+BY\s+ID$/);
      expect(human.stdout).toMatch(new RegExp(`^${name}\\s+VIEWER\\s+active\\s+\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ\\s+.*\\s+bootstrap-admin\\s+${body.token.id}$`, 'm'));
      expect(human.stdout).not.toContain(body.secret);
    });

    it('revokes by name or by id; the token is refused from then on', async () => {
      const byName = `revoke-me-${Date.now()}`;
      const secret = await t.tokenFor('viewer', byName);
      secrets.add(secret);
      expect((await cli(['status'], { token: secret })).code).toBe(0);

      const revoked = await cli(['token', 'revoke', byName, '--reason', 'left the team']);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toMatch(new RegExp(`^token "${byName}" \\(VIEWER, id [0-9a-f-]{36}\\): revoked; it is refused from its next request on\\.\\n$`));
      expect((await cli(['status'], { token: secret })).code).toBe(3);
      const again = await cli(['token', 'revoke', byName, '--json']);
      expect(again.code).toBe(1);
      expect(again.json<CliError>().error).toMatchObject({ errorCode: 'TOKEN_ALREADY_REVOKED' });

      const other = `revoke-by-id-${Date.now()}`;
      secrets.add(await t.tokenFor('viewer', other));
      const id = (await cli(['token', 'list', '--json'])).json<CliToken[]>().find((x) => x.name === other)!.id;
      const byId = await cli(['token', 'revoke', id, '--json']);
      expect(byId.json()).toMatchObject({ id, name: other, active: false, revokedAt: expect.any(String), idempotencyKey: expect.stringMatching(/^cli-/) });

      const unknown = await cli(['token', 'revoke', 'nobody-by-this-name', '--json']);
      expect(unknown.code).toBe(1);
      expect(unknown.json<CliError>().error).toMatchObject({ code: 'NOT_FOUND', errorCode: 'TOKEN_NOT_FOUND' });
      expect((await cli(['token', 'revoke', other], { token: releaseManager })).code).toBe(3);
    });

    it('usage errors exit 2: no --role, an unknown role, a time without its zone', async () => {
      for (const args of [
        ['token', 'create', 'x'],
        ['token', 'create', 'x', '--role', 'superuser'],
        ['token', 'create', 'x', '--role', 'viewer', '--expires-at', '2030-01-01'],
        ['token', 'create', 'x', '--role', 'viewer', '--expires-at', '2030-01-01T10:00:00'],
        ['token', 'revoke'],
      ]) {
        const result = await cli(args);
        expect(result.code).toBe(2);
        expect(result.stdout).toBe('');
      }
    });
  });

  describe('--verbose and idempotency keys', () => {
    it('--verbose prints the key a change was sent with, and each answer with its request id, on stderr only', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      const result = await cli(['set', slice.key, '5', '--reason', 'canary', '--verbose']);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${slice.key}: 5% on NEW (version 2).\n`);
      const key = /verbose: idempotency key: (cli-[0-9a-f-]{36})/.exec(result.stderr)?.[1];
      expect(key).toBeDefined();
      expect(result.stderr).toMatch(/verbose: POST http:\/\/\S+\/graphql mutation setRollout\n/);
      expect(result.stderr).toMatch(/verbose: HTTP 200 in \d+ ms \(request id \S+\)\n/);
      expect((await sliceHistory(t.admin, slice.key))[0]!.idempotencyKey).toBe(key);

      // The key in --json is the one recorded.
      const json = await cli(['rollback', slice.key, '--reason', 'incident', '--json']);
      expect((await sliceHistory(t.admin, slice.key))[0]!.idempotencyKey).toBe(json.json<{ idempotencyKey: string }>().idempotencyKey);
      const all = await cli(['rollback', '--all', '--tag', 'no-such-tag-here', '--reason', 'x', '--json']);
      expect(all.json()).toMatchObject({ count: 0, idempotencyKey: expect.stringMatching(/^cli-/) });
    });
  });

  describe('tokens and the service', () => {
    it('an unknown token exits 3 (UNAUTHENTICATED) and says how to get one', async () => {
      const result = await cli(['status'], { token: 'sy_not_a_real_token_000000000000' });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('[UNAUTHENTICATED]');
      expect(result.stderr).toContain('createToken');
      expect(result.stdout).toBe('');
      const json = await cli(['status', '--json'], { token: 'sy_not_a_real_token_000000000000' });
      expect(json.json<CliError>().error).toMatchObject({ exitCode: 3, code: 'UNAUTHENTICATED' });
    });

    it('a viewer token may read but not change: exit 3 (FORBIDDEN), naming the token that may', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      expect((await cli(['status', slice.key], { token: viewer })).code).toBe(0);
      const result = await cli(['set', slice.key, '5', '--reason', 'x'], { token: viewer });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('[FORBIDDEN]');
      expect(result.stderr).toContain("This token's role (viewer) may not change a rollout: use a release-manager (or admin) token.");
      const rollback = await cli(['rollback', slice.key, '--reason', 'x', '--json'], { token: viewer });
      expect(rollback.json<CliError>().error).toMatchObject({ exitCode: 3, code: 'FORBIDDEN', role: 'viewer' });
      expect((await getSlice(t.admin, slice.key)).version).toBe(1);
    });

    it('no token: exit 2, saying how to create one, before anything is sent', async () => {
      const result = await cli(['status'], { token: null });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('SWITCHYARD_TOKEN');
      expect(result.stderr).toContain('createToken');
      const json = await cli(['status', '--json'], { token: null });
      expect(json.json<CliError>().error).toMatchObject({ exitCode: 2, code: 'USAGE' });
    });

    it('--url and --token flags win over the environment; a base URL ending in /graphql works too', async () => {
      const result = await cli(['status', '--json', '--url', `${t.baseUrl}/graphql`, '--token', viewer], {
        env: { SWITCHYARD_URL: 'http://127.0.0.1:9', SWITCHYARD_TOKEN: 'wrong' },
      });
      expect(result.code).toBe(0);
      const wrongPath = await cli(['status', '--url', `${t.baseUrl}/somewhere-else`]);
      expect(wrongPath.code).toBe(4);
      expect(wrongPath.stderr).toContain('--url');
      expect((await cli(['status', '--url', 'not a url'])).code).toBe(2);
    });

    it('a closed port exits 4 (unreachable) and names the URL to check', async () => {
      const port = await closedPort();
      const result = await cli(['status'], { env: { SWITCHYARD_URL: `http://127.0.0.1:${port}` } });
      expect(result.code).toBe(4);
      expect(result.stderr).toContain(`Cannot reach http://127.0.0.1:${port}/graphql: connection refused.`);
      expect(result.stderr).toContain('SWITCHYARD_URL');
      const json = await cli(['rollback', 'x', '--reason', 'y', '--json'], { env: { SWITCHYARD_URL: `http://127.0.0.1:${port}` } });
      expect(json.json<CliError>().error).toMatchObject({ exitCode: 4, code: 'NETWORK' });
    });

    it('a service that does not answer in time exits 4; for a change, the hint gives the idempotency key that makes a retry safe', async () => {
      const silent = await silentServer();
      try {
        const started = Date.now();
        const result = await cli(['set', 'payments.x', '5', '--reason', 'x', '--timeout', '0.3', '--idempotency-key', 'retry-me'], { env: { SWITCHYARD_URL: silent.url } });
        expect(Date.now() - started).toBeLessThan(5_000);
        expect(result.code).toBe(4);
        expect(result.stderr).toContain('[TIMEOUT]');
        expect(result.stderr).toContain('--idempotency-key retry-me');
        const read = await cli(['status', '--timeout', '0.3'], { env: { SWITCHYARD_URL: silent.url } });
        expect(read.code).toBe(4);
        expect(read.stderr).not.toContain('idempotency');
      } finally {
        await silent.close();
      }
    });

    it('usage errors exit 2: unknown command or option, bad --timeout; --help and --version exit 0', async () => {
      for (const args of [['frobnicate'], ['status', '--frobnicate'], ['status', '--timeout', '-1'], [], ['who-follows'], ['history', 'a', 'b']]) {
        const result = await cli(args);
        expect(result.code).toBe(2);
        expect(result.stdout).toBe('');
        expect(result.stderr).not.toBe('');
      }
      const json = await cli(['status', '--frobnicate', '--json']);
      expect(json.code).toBe(2);
      expect(json.json<CliError>().error).toMatchObject({ exitCode: 2, code: 'USAGE' });

      const help = await cli(['--help'], { token: null });
      expect(help.code).toBe(0);
      for (const command of [
        'status',
        'set',
        'rollback',
        'resume',
        'slice',
        'segment',
        'targeting',
        'token',
        'history',
        'verify-history',
        'checkpoint',
        'who-follows',
        'outcomes',
        'mismatches',
      ])
        expect(help.stdout).toContain(`  ${command} `);
      expect(help.stdout).toContain('Exit codes:');
      expect(help.stdout).toContain('SWITCHYARD_TOKEN');
      const setHelp = await cli(['set', '--help'], { token: null });
      expect(setHelp.code).toBe(0);
      expect(setHelp.stdout).toContain('--expected-version');
      expect(setHelp.stdout).toContain('Exit codes:');
      expect((await cli(['--version'], { token: null })).stdout).toMatch(/^\d+\.\d+\.\d+/);
    });
  });

  describe('who-follows', () => {
    it('lists the SDK instances that follow a slice and marks those not up to date, and those gone', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      const { slice: before } = await t.admin.ok<{ slice: { changedAtRevision: number } }>('query($key: String!) { slice(key: $key) { changedAtRevision } }', { key: slice.key });
      await cli(['set', slice.key, '20', '--reason', 'step']);
      const { slice: after } = await t.admin.ok<{ slice: { changedAtRevision: number } }>('query($key: String!) { slice(key: $key) { changedAtRevision } }', { key: slice.key });
      expect(after.changedAtRevision).toBeGreaterThan(before.changedAtRevision);

      const sdk = await t.tokenFor('sdk');
      secrets.add(sdk);
      // One instance holds the latest revision, the other the one before the change.
      await reportTraffic(sdk, { appName: 'payments-api', instanceId: 'pod-current', revision: after.changedAtRevision, sliceKey: slice.key });
      await reportTraffic(sdk, { appName: 'payments-api', instanceId: 'pod-stale', revision: before.changedAtRevision, sliceKey: slice.key });
      // A third closed before the change reached it, and said so: gone, not BEHIND.
      await reportTraffic(sdk, { appName: 'payments-api', instanceId: 'pod-closed', revision: before.changedAtRevision, sliceKey: slice.key, final: true });

      interface Followers {
        key: string;
        changedAtRevision: number;
        withinMinutes: number;
        followers: { appName: string; instanceId: string; protocol: string; revision: number | null; upToDate: boolean; status: string; closedAt: string | null }[];
      }
      let json: Followers | undefined;
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        const result = await cli(['who-follows', slice.key, '--json'], { token: viewer });
        expect(result.code).toBe(0);
        json = result.json<Followers>();
        if (json.followers.length === 3) break;
      }
      expect(json).toMatchObject({ key: slice.key, changedAtRevision: after.changedAtRevision, withinMinutes: 1440 });
      // Behind first, gone last.
      expect(json!.followers).toEqual([
        expect.objectContaining({
          appName: 'payments-api',
          instanceId: 'pod-stale',
          protocol: 'SWITCHYARD',
          revision: before.changedAtRevision,
          upToDate: false,
          status: 'BEHIND',
          closedAt: null,
        }),
        expect.objectContaining({
          appName: 'payments-api',
          instanceId: 'pod-current',
          protocol: 'SWITCHYARD',
          revision: after.changedAtRevision,
          upToDate: true,
          status: 'UP_TO_DATE',
        }),
        expect.objectContaining({
          appName: 'payments-api',
          instanceId: 'pod-closed',
          revision: before.changedAtRevision,
          upToDate: false,
          status: 'GONE',
          closedAt: expect.any(String),
        }),
      ]);

      const human = await cli(['who-follows', slice.key], { token: viewer });
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`${slice.key} last changed at revision ${after.changedAtRevision}.`);
      expect(human.stdout).toContain(
        `3 instances seen in the last 24 h; 1 BEHIND (not yet on revision ${after.changedAtRevision}); 1 gone (closed, or not heard from for three report intervals).`,
      );
      expect(human.stdout).toMatch(/^STATUS\s+APP\s+INSTANCE\s+PROTOCOL\s+SDK\s+REVISION\s+SYNCED\s+SEEN\s+FORM$/m);
      expect(human.stdout).toMatch(
        new RegExp(
          `^BEHIND\\s+payments-api\\s+pod-stale\\s+SWITCHYARD\\s+@switchyard/client-sdk 0\\.1\\.0\\s+${before.changedAtRevision}\\s+\\d+s ago\\s+\\d+s ago\\s+exact$`,
          'm',
        ),
      );
      expect(human.stdout).toMatch(new RegExp(`^ok\\s+payments-api\\s+pod-current\\s+SWITCHYARD\\s+.*\\s${after.changedAtRevision}\\s+\\d+s ago\\s+\\d+s ago\\s+exact$`, 'm'));
      expect(human.stdout).toMatch(new RegExp(`^gone\\s+payments-api\\s+pod-closed\\s+SWITCHYARD\\s+.*\\s${before.changedAtRevision}\\s+\\d+s ago\\s+\\d+s ago\\s+exact$`, 'm'));
      expect(human.stdout).not.toContain('degraded');

      // status <slice> shows the traffic the reports carried.
      const status = await cli(['status', slice.key, '--json']);
      expect(status.json<{ traffic: { last24Hours: { new: number; legacy: number; total: number } } }>().traffic.last24Hours).toMatchObject({ new: 9, legacy: 21, total: 30 });
      expect((await cli(['status', slice.key])).stdout).toMatch(/24 hours\s+9\s+21\s+30\s+30\.0%/);

      const nobody = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      const empty = await cli(['who-follows', nobody.key, '--within', '5']);
      expect(empty.code).toBe(0);
      expect(empty.stdout).toContain('No SDK instance has followed it in the last 5 min.');
    });
  });

  describe('who-follows and Unleash SDKs', () => {
    it('shows which Unleash SDKs get a degraded form of the slice, and why', async () => {
      const minors = uniqueKey('cli.minors');
      await createSegment(t.admin, minors, [{ attribute: 'age', operator: 'NUM_LT', values: ['18'] }]);
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.unleash'), percent: 40, targeting: { include: [], exclude: [minors], rules: [] } });
      const sdk = await t.tokenFor('sdk');
      secrets.add(sdk);
      const served = async (instanceId: string, spec: string | null) => {
        for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
          const headers: Record<string, string> = {
            authorization: sdk,
            'unleash-appname': 'ledger-go',
            'unleash-instanceid': instanceId,
            ...(spec === null ? {} : { 'unleash-client-spec': spec }),
          };
          const body = (await (await fetch(`${t.baseUrl}/api/client/features`, { headers })).json()) as { features: { name: string }[] };
          if (body.features.some((f) => f.name === slice.key)) break;
        }
        const now = Date.now();
        const metrics = await fetch(`${t.baseUrl}/api/client/metrics`, {
          method: 'POST',
          headers: { authorization: sdk, 'content-type': 'application/json' },
          body: JSON.stringify({
            appName: 'ledger-go',
            instanceId,
            bucket: { start: new Date(now - 60_000).toISOString(), stop: new Date(now).toISOString(), toggles: { [slice.key]: { yes: 1, no: 3, variants: {} } } },
          }),
        });
        expect(metrics.status).toBe(202);
      };
      await served('pod-old-1', null);
      await served('pod-old-2', null);
      await served('pod-new', '5.2.0');

      interface Followers {
        followers: { instanceId: string; clientSpec: string | null; servedForm: string | null; degradedReason: string | null }[];
      }
      let json: Followers | undefined;
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        json = (await cli(['who-follows', slice.key, '--json'], { token: viewer })).json<Followers>();
        if (json.followers.length === 3) break;
      }
      expect(json!.followers.map((f) => [f.instanceId, f.clientSpec, f.servedForm])).toEqual([
        ['pod-new', '5.2.0', 'EXACT'],
        ['pod-old-1', null, 'DISABLED'],
        ['pod-old-2', null, 'DISABLED'],
      ]);
      const human = await cli(['who-follows', slice.key], { token: viewer });
      expect(human.stdout).toContain('3 instances seen in the last 24 h; all up to date; 2 served a degraded form (below).');
      expect(human.stdout).toMatch(/^ok\s+ledger-go\s+pod-old-1\s+UNLEASH\s+.*\s+DISABLED$/m);
      expect(human.stdout).toMatch(/^ok\s+ledger-go\s+pod-new\s+UNLEASH\s+.*\s+exact$/m);
      expect(human.stdout).toContain(
        '  DISABLED (no client specification declared): ledger-go/pod-old-1, ledger-go/pod-old-2\n    constraints other than IN / NOT_IN need client specification 4.1.0\n',
      );
    });
  });

  describe('the installed bin (dist/src/cli/main.js, as npm links it)', () => {
    const root = process.cwd();
    beforeAll(async () => {
      // Compiles the CLI's own modules (it imports no service code) with the project's compiler
      // options into dist/, exactly where `npm run build` puts them, so this test does not depend
      // on the rest of the tree building.
      const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-build-'));
      try {
        const tsconfig = join(dir, 'tsconfig.json');
        writeFileSync(
          tsconfig,
          JSON.stringify({
            extends: join(root, 'tsconfig.json'),
            compilerOptions: { typeRoots: [join(root, 'node_modules/@types')] },
            files: [join(root, 'src/cli/main.ts')],
            include: [],
            references: [],
          }),
        );
        // Not execFileSync: a blocked event loop lets the service close idle keep-alive sockets
        // under this process's fetch, and the next request would meet ECONNRESET.
        await promisify(execFile)(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', tsconfig], { cwd: root });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }, 120_000);

    function spawnCli(args: string[], token: string): Promise<{ code: number; stdout: string; stderr: string }> {
      return new Promise((resolve) => {
        const bin = join(root, 'dist/src/cli/main.js');
        const env = { ...process.env, SWITCHYARD_URL: t.baseUrl, SWITCHYARD_TOKEN: token };
        execFile(process.execPath, [bin, ...args], { env, cwd: root }, (error, stdout, stderr) => {
          resolve({ code: error ? ((error as { code?: number }).code ?? -1) : 0, stdout, stderr });
        });
      });
    }

    it('package.json names it, it starts with a node shebang, and it exits with the codes above', async () => {
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
      expect(pkg.bin).toEqual({ switchyard: 'dist/src/cli/main.js' });
      expect(readFileSync(join(root, pkg.bin!.switchyard!), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');

      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider'), percent: 3 });
      const ok = await spawnCli(['status', slice.key, '--json'], viewer);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ key: slice.key, percent: 3 });

      const forbidden = await spawnCli(['rollback', slice.key, '--reason', 'x'], viewer);
      expect(forbidden.code).toBe(3);
      expect(forbidden.stderr).toContain('[FORBIDDEN]');
      expect(forbidden.stderr).not.toContain(viewer);

      const rolledBack = await spawnCli(['rollback', slice.key, '--reason', 'from a shell'], responder);
      expect(rolledBack.code).toBe(0);
      expect((await getSlice(t.admin, slice.key)).state).toBe('ROLLED_BACK');

      expect((await spawnCli(['set', slice.key], releaseManager)).code).toBe(2);

      // A file form, read by the compiled CLI with its own dependency (yaml).
      const dir = mkdtempSync(join(tmpdir(), 'switchyard-cli-bin-'));
      try {
        const file = join(dir, 'staff.yaml');
        writeFileSync(file, 'constraints:\n  - {attribute: email, operator: STR_ENDS_WITH, values: ["@example.com"], caseInsensitive: true}\n');
        const key = uniqueKey('staff');
        const fromFile = await spawnCli(['segment', 'create', key, '--file', file, '--json'], releaseManager);
        expect(fromFile.code).toBe(0);
        expect(JSON.parse(fromFile.stdout)).toMatchObject({ key, constraints: [{ attribute: 'email', caseInsensitive: true }] });
        writeFileSync(file, 'constraints: {}\n');
        expect((await spawnCli(['segment', 'create', uniqueKey('staff'), '--file', file], releaseManager)).code).toBe(2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  // Last: this tampers with the history chain, which stays broken for the rest of the file.
  describe('verify-history', () => {
    it('exits 0 on an intact chain and 5 on a broken one, naming the first bad row', async () => {
      const intact = await cli(['verify-history'], { token: viewer });
      expect(intact.code).toBe(0);
      expect(intact.stdout).toMatch(/^History verified: [\d,]+ rows/);
      expect(intact.stdout).toMatch(/head hash: [0-9a-f]{64}/);
      const intactJson = (await cli(['verify-history', '--json'])).json<{ ok: boolean; checkedRows: number; firstBrokenSequence: string | null }>();
      expect(intactJson).toMatchObject({ ok: true, firstBrokenSequence: null });

      const slice = await createSlice(t.admin, { key: uniqueKey('payments.provider') });
      await cli(['set', slice.key, '5', '--reason', 'to be tampered with']);
      const [victim] = await sliceHistory(t.admin, slice.key);
      await t.dataSource.transaction(async (tx) => {
        await tx.query('ALTER TABLE history DISABLE TRIGGER history_no_update_delete');
        await tx.query("UPDATE history SET reason = 'rewritten' WHERE sequence = $1", [victim!.sequence]);
        await tx.query('ALTER TABLE history ENABLE TRIGGER history_no_update_delete');
      });

      const broken = await cli(['verify-history'], { token: viewer });
      expect(broken.code).toBe(5);
      const [{ position }] = await t.dataSource.query<[{ position: string }]>('SELECT position::text AS position FROM history WHERE sequence = $1', [victim!.sequence]);
      expect(broken.stdout).toContain(`History BROKEN at position ${position} (sequence ${victim!.sequence})`);
      const json = await cli(['verify-history', '--json']);
      expect(json.code).toBe(5);
      expect(json.json()).toMatchObject({ ok: false, verdict: 'MISMATCH_AT_POSITION', firstBrokenPosition: position, firstBrokenSequence: victim!.sequence });
    });
  });

  describe('outcomes and mismatches', () => {
    it('shows both paths side by side, the difference, comparisons against the threshold, per app; and the newest mismatches', async () => {
      const slice = await createSlice(t.admin, { key: uniqueKey('payments.outcomes') });
      const sdk = await t.tokenFor('sdk');
      secrets.add(sdk);
      await sliceServed(t.app, slice.key);
      const now = Date.now();
      const res = await fetch(`${t.baseUrl}/sdk/v1/metrics`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sdk}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          appName: 'checkout-api',
          instanceId: 'pod-1',
          bucket: { start: new Date(now - 10_000).toISOString(), stop: new Date(now).toISOString(), slices: {} },
          outcomes: { [slice.key]: { NEW: pathOutcome(Array<number>(1_000).fill(40), 20), LEGACY: pathOutcome(Array<number>(1_000).fill(20), 1) } },
          comparisons: {
            [slice.key]: {
              compared: 1_000,
              mismatches: 1,
              otherFailures: 0,
              timeouts: 0,
              samples: [{ at: '2026-12-02T10:01:02.345Z', served: 'LEGACY', subject: '9f86d081884c7d65', diff: '$.balance: 100 ≠ 101\n$.currency: \u001b[31mKES' }],
            },
          },
        }),
      });
      expect(res.status).toBe(202);
      let json: SliceOutcomesView | undefined;
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        const result = await cli(['outcomes', slice.key, '--window', '5m', '--json'], { token: viewer });
        expect(result.code).toBe(0);
        json = result.json<SliceOutcomesView>();
        if (json.new.calls === 1_000) break;
      }
      expect(json).toMatchObject({ key: slice.key, window: 'LAST_5_MINUTES', new: { calls: 1_000, failures: 20, failureRate: 0.02 }, legacy: { failureRate: 0.001 } });
      expect(json!.comparison).toMatchObject({ compared: 1_000, mismatches: 1, status: 'NOT_ENOUGH_DATA', thresholdPercent: 0.1 });

      const human = await cli(['outcomes', slice.key, '--window', '5m', '--app', 'checkout-api'], { token: viewer });
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`${slice.key}, the last 5 minutes (`);
      expect(human.stdout).toMatch(/LEGACY\s+1,000\s+1\s+0\.1 %/);
      expect(human.stdout).toMatch(/NEW\s+1,000\s+20\s+2\.00 %/);
      expect(human.stdout).toContain('NEW - LEGACY: failure rate +1.90 %');
      expect(human.stdout).toContain('1,000 compared, 1 mismatched (0.1 %, 95 % interval 0.0177 % to 0.564 %); threshold 0.1 %: NOT_ENOUGH_DATA (the rate is at the threshold).');
      expect(human.stdout).toMatch(/checkout-api\s+1,000/);

      const mismatches = await cli(['mismatches', slice.key, '--limit', '5'], { token: viewer });
      expect(mismatches.code).toBe(0);
      expect(mismatches.stdout).toContain('served LEGACY  subject 9f86d081884c7d65');
      expect(mismatches.stdout).toContain('    $.balance: 100 ≠ 101\n    $.currency: \ufffd[31mKES');
      const listed = await cli(['mismatches', slice.key, '--json'], { token: viewer });
      expect(listed.json<{ diff: string; appName: string }[]>()).toEqual([
        expect.objectContaining({ appName: 'checkout-api', diff: '$.balance: 100 ≠ 101\n$.currency: \u001b[31mKES' }),
      ]);

      for (const args of [
        ['outcomes', slice.key, '--window', '2h'],
        ['mismatches', slice.key, '--limit', '0'],
      ]) {
        const refused = await cli(args, { token: viewer });
        expect(refused.code).toBe(2);
      }
    });
  });

  async function reportTraffic(sdkToken: string, r: { appName: string; instanceId: string; revision: number; sliceKey: string; final?: boolean }): Promise<void> {
    const now = Date.now();
    const res = await fetch(`${t.baseUrl}/sdk/v1/metrics`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sdkToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        appName: r.appName,
        instanceId: r.instanceId,
        sdkName: '@switchyard/client-sdk',
        sdkVersion: '0.1.0',
        revision: r.revision,
        syncedAt: new Date(now - 1_000).toISOString(),
        bucket: { start: new Date(now - 60_000).toISOString(), stop: new Date(now).toISOString(), slices: { [r.sliceKey]: { NEW: 3, LEGACY: 7 } } },
        ...(r.final ? { final: true } : {}),
      }),
    });
    expect(res.status).toBeLessThan(300);
  }
});

/** A port nothing listens on: bound by us a moment ago, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Accepts connections and never answers. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
