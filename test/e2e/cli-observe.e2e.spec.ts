import { cliAgainst } from '../utils/cli.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSlice, sliceHistory, uniqueKey } from '../utils/operations.js';

/**
 * `switchyard observe` (docs/cli.md) against the real service on a real port, run in-process as
 * main.ts runs it, in the style of cli.e2e.spec.ts: exit codes and JSON asserted, messages only
 * where they are the point.
 */
describe('switchyard observe', () => {
  let t: TestApp;
  let releaseManager: string;
  let responder: string;

  beforeAll(async () => {
    t = await createTestApp();
    releaseManager = await t.tokenFor('release-manager', 'ana-release-manager');
    responder = await t.tokenFor('incident-responder', 'on-call-sre');
  });
  afterAll(async () => {
    await t?.close();
  });

  const cli = cliAgainst(() => t.baseUrl);

  interface Observed {
    key: string;
    version: number;
    watched: boolean;
    shadowPercent: number;
    mismatchThresholdPercent: number;
    idempotencyKey: string;
  }

  it('a release manager watches a slice and sets the shadow share and threshold; status and history show them', async () => {
    const slice = await createSlice(t.admin, { key: uniqueKey('api.get-transactions'), percent: 5 });

    const first = await cli(['observe', slice.key, '--watched', '--shadow', '5', '--reason', 'dual running', '--expected-version', '1'], releaseManager);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe(`${slice.key}: watched, shadow 5% of compare calls, mismatch threshold 0.1% (version 2).\n`);

    const json = await cli(['observe', slice.key, '--no-watched', '--mismatch-threshold', '0.05%', '--reason', 'tighter', '--idempotency-key', `k-${slice.key}`, '--json']);
    expect(json.code).toBe(0);
    expect(json.json<Observed>()).toMatchObject({ key: slice.key, watched: false, shadowPercent: 5, mismatchThresholdPercent: 0.05, version: 3, idempotencyKey: `k-${slice.key}` });
    // A retry with the same key returns the first result and writes nothing.
    const retry = await cli(['observe', slice.key, '--no-watched', '--mismatch-threshold', '0.05', '--reason', 'tighter', '--idempotency-key', `k-${slice.key}`, '--json']);
    expect(retry.json<Observed>()).toMatchObject({ version: 3 });

    const status = await cli(['status', slice.key]);
    expect(status.stdout).toMatch(/observation\s+not watched, shadow 5% of compare calls, mismatch threshold 0\.05%/);
    expect((await cli(['status', slice.key, '--json'])).json()).toMatchObject({ watched: false, shadowPercent: 5, mismatchThresholdPercent: 0.05 });

    const history = await cli(['history', slice.key]);
    expect(history.stdout).toMatch(/OBSERVATION_SET\s+bootstrap-admin\s+not watched, mismatch threshold 0\.1% -> 0\.05%\s+tighter/);
    expect(history.stdout).toMatch(/OBSERVATION_SET\s+ana-release-manager\s+watched, shadow 0% -> 5%\s+dual running/);
    expect((await sliceHistory(t.admin, slice.key)).map((h) => [h.action, h.reason])).toEqual([
      ['OBSERVATION_SET', 'tighter'],
      ['OBSERVATION_SET', 'dual running'],
      ['SLICE_CREATED', null],
    ]);
  });

  it('nothing to change, no reason, or a value that is not a number: exit 2, nothing sent', async () => {
    const slice = await createSlice(t.admin, { key: uniqueKey('api.route') });
    for (const args of [
      ['observe', slice.key, '--reason', 'x'],
      ['observe', slice.key, '--watched'],
      ['observe', slice.key, '--watched', '--reason', '  '],
      ['observe', slice.key, '--shadow', 'lots', '--reason', 'x'],
      ['observe', slice.key, '--mismatch-threshold', '-1', '--reason', 'x'],
      ['observe', '--watched', '--reason', 'x'],
    ]) {
      const usage = await cli(args);
      expect({ args, code: usage.code, stdout: usage.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(usage.stderr).toMatch(/^error: /);
    }
    expect(await sliceHistory(t.admin, slice.key)).toHaveLength(1);
  });

  it('values the service refuses exit 1 naming the field; a stale version, an archived slice exit 1; an incident responder exits 3', async () => {
    const slice = await createSlice(t.admin, { key: uniqueKey('api.route') });
    interface CliError {
      error: { exitCode: number; code: string; errorCode: string | null; [detail: string]: unknown };
    }
    for (const [flag, value, field] of [
      ['--shadow', '150', 'shadowPercent'],
      ['--shadow', '0.125', 'shadowPercent'],
      ['--mismatch-threshold', '0.00001', 'mismatchThresholdPercent'],
    ] as const) {
      const refused = await cli(['observe', slice.key, flag, value, '--reason', 'x', '--json']);
      expect(refused.code).toBe(1);
      expect(refused.json<CliError>().error).toMatchObject({ code: 'BAD_USER_INPUT', errorCode: 'INVALID_INPUT', field });
    }
    await cli(['observe', slice.key, '--watched', '--reason', 'first']);
    const stale = await cli(['observe', slice.key, '--shadow', '1', '--reason', 'second', '--expected-version', '1', '--json']);
    expect(stale.code).toBe(1);
    expect(stale.json<CliError>().error).toMatchObject({ code: 'CONFLICT', errorCode: 'SLICE_VERSION_CONFLICT' });

    const forbidden = await cli(['observe', slice.key, '--shadow', '1', '--reason', 'x'], responder);
    expect(forbidden.code).toBe(3);
    expect(forbidden.stderr).toContain('release-manager');

    await cli(['slice', 'archive', slice.key, '--reason', 'done']);
    const archived = await cli(['observe', slice.key, '--no-watched', '--reason', 'x', '--json']);
    expect(archived.code).toBe(1);
    expect(archived.json<CliError>().error).toMatchObject({ errorCode: 'SLICE_ARCHIVED' });
    expect((await sliceHistory(t.admin, slice.key)).map((h) => h.action)).toEqual(['SLICE_ARCHIVED', 'OBSERVATION_SET', 'SLICE_CREATED']);
  });
});
