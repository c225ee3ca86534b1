import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { run } from '../../src/cli/program.js';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, getSlice, sliceHistory, uniqueKey } from '../utils/operations.js';

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
      expect(nothingLeft.json()).toEqual({ count: 0, sliceKeys: [], tag });
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
      const result = await cli(['status', '--json', '--url', `${t.baseUrl}/graphql`, '--token', viewer], { env: { SWITCHYARD_URL: 'http://127.0.0.1:9', SWITCHYARD_TOKEN: 'wrong' } });
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
      for (const command of ['status', 'set', 'rollback', 'resume', 'history', 'verify-history', 'checkpoint', 'who-follows']) expect(help.stdout).toContain(`  ${command} `);
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
    it('lists the SDK instances that follow a slice and marks those not up to date', async () => {
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

      interface Followers {
        key: string;
        changedAtRevision: number;
        withinMinutes: number;
        followers: { appName: string; instanceId: string; protocol: string; revision: number | null; upToDate: boolean }[];
      }
      let json: Followers | undefined;
      for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
        const result = await cli(['who-follows', slice.key, '--json'], { token: viewer });
        expect(result.code).toBe(0);
        json = result.json<Followers>();
        if (json.followers.length === 2) break;
      }
      expect(json).toMatchObject({ key: slice.key, changedAtRevision: after.changedAtRevision, withinMinutes: 1440 });
      // Not up to date first.
      expect(json!.followers).toEqual([
        expect.objectContaining({ appName: 'payments-api', instanceId: 'pod-stale', protocol: 'SWITCHYARD', revision: before.changedAtRevision, upToDate: false }),
        expect.objectContaining({ appName: 'payments-api', instanceId: 'pod-current', protocol: 'SWITCHYARD', revision: after.changedAtRevision, upToDate: true }),
      ]);

      const human = await cli(['who-follows', slice.key], { token: viewer });
      expect(human.code).toBe(0);
      expect(human.stdout).toContain(`${slice.key} last changed at revision ${after.changedAtRevision}.`);
      expect(human.stdout).toContain(`2 instances seen in the last 24 h; 1 BEHIND (not yet on revision ${after.changedAtRevision}).`);
      expect(human.stdout).toMatch(/^STATUS\s+APP\s+INSTANCE\s+PROTOCOL\s+SDK\s+REVISION\s+SYNCED\s+SEEN\s+FORM$/m);
      expect(human.stdout).toMatch(new RegExp(`^BEHIND\\s+payments-api\\s+pod-stale\\s+SWITCHYARD\\s+@switchyard/client-sdk 0\\.1\\.0\\s+${before.changedAtRevision}\\s+\\d+s ago\\s+\\d+s ago\\s+exact$`, 'm'));
      expect(human.stdout).toMatch(new RegExp(`^ok\\s+payments-api\\s+pod-current\\s+SWITCHYARD\\s+.*\\s${after.changedAtRevision}\\s+\\d+s ago\\s+\\d+s ago\\s+exact$`, 'm'));
      expect(human.stdout).not.toContain('degraded');

      // status <slice> shows the traffic the reports carried.
      const status = await cli(['status', slice.key, '--json']);
      expect(status.json<{ traffic: { last24Hours: { new: number; legacy: number; total: number } } }>().traffic.last24Hours).toMatchObject({ new: 6, legacy: 14, total: 20 });
      expect((await cli(['status', slice.key])).stdout).toMatch(/24 hours\s+6\s+14\s+20\s+30\.0%/);

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
          const headers: Record<string, string> = { authorization: sdk, 'unleash-appname': 'ledger-go', 'unleash-instanceid': instanceId, ...(spec === null ? {} : { 'unleash-client-spec': spec }) };
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
      expect(human.stdout).toContain('  DISABLED (no client specification declared): ledger-go/pod-old-1, ledger-go/pod-old-2\n    constraints other than IN / NOT_IN need client specification 4.1.0\n');
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
      const [{ position }] = (await t.dataSource.query('SELECT position::text AS position FROM history WHERE sequence = $1', [victim!.sequence])) as { position: string }[];
      expect(broken.stdout).toContain(`History BROKEN at position ${position} (sequence ${victim!.sequence})`);
      const json = await cli(['verify-history', '--json']);
      expect(json.code).toBe(5);
      expect(json.json()).toMatchObject({ ok: false, verdict: 'MISMATCH_AT_POSITION', firstBrokenPosition: position, firstBrokenSequence: victim!.sequence });
    });
  });

  async function reportTraffic(sdkToken: string, r: { appName: string; instanceId: string; revision: number; sliceKey: string }): Promise<void> {
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
