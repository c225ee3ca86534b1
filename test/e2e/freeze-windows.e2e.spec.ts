import { HistoryRepository } from '../../src/history/history.repository.js';
import { HistoryService } from '../../src/history/history.service.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import type { GraphqlClient } from '../utils/graphql-client.js';
import type { Clock } from '../../src/common/scheduling/clock.js';

const WINDOW_FIELDS = 'key description timeZone kind from until recurrence { daysOfMonth weekdays at duration } tag version';
const CREATE_WINDOW = `mutation($key: String!, $timeZone: String!, $from: DateTime, $until: DateTime, $recurrence: FreezeRecurrenceInput, $tag: String, $idempotencyKey: String, $description: String! = "") {
  createFreezeWindow(key: $key, timeZone: $timeZone, from: $from, until: $until, recurrence: $recurrence, tag: $tag, idempotencyKey: $idempotencyKey, description: $description, reason: "salary run") { ${WINDOW_FIELDS} } }`;
const UPDATE_WINDOW = `mutation($key: String!, $timeZone: String!, $from: DateTime, $until: DateTime, $recurrence: FreezeRecurrenceInput, $tag: String, $expectedVersion: Int) {
  updateFreezeWindow(key: $key, timeZone: $timeZone, from: $from, until: $until, recurrence: $recurrence, tag: $tag, expectedVersion: $expectedVersion, reason: "moved") { ${WINDOW_FIELDS} } }`;
const DELETE_WINDOW = `mutation($key: String!) { deleteFreezeWindow(key: $key, reason: "no longer needed") { key version } }`;
const SET_ROLLOUT = `mutation($key: String!, $percent: Float!, $freezeOverride: String) {
  setRollout(key: $key, percent: $percent, reason: "ramp", freezeOverride: $freezeOverride) { basisPoints version } }`;
const SLICE_FREEZE = `query($key: String!) { slice(key: $key) { freeze { active { window timeZone from until } next { window timeZone from until } } } }`;
const SALARY_RUN = { daysOfMonth: [25], at: '00:00', duration: '3d' };

/**
 * A clock the test sets: days pass in one step. Its timers never fire (the periodic tasks they
 * drive, checkpoints and retention, play no part here, and firing a month of them would be slow).
 */
class SetClock implements Clock {
  constructor(private current: number) {}
  now(): Date {
    return new Date(this.current);
  }
  setTimer(): () => void {
    return () => {};
  }
  set(iso: string): void {
    this.current = Date.parse(iso);
  }
}

/** The Nairobi salary run (days 25 to 27, local) against a service whose clock the test moves. */
describe('freeze windows', () => {
  let t: TestApp;
  let clock: SetClock;
  let releaseManager: GraphqlClient;

  beforeEach(async () => {
    clock = new SetClock(Date.parse('2026-12-20T00:00:00.000Z'));
    t = await createTestApp({}, { clock });
    releaseManager = t.as(await t.tokenFor('release-manager', 'rm-alice'));
  });
  afterEach(() => t?.close());

  const moveTo = (iso: string) => clock.set(iso);
  const createSlice = (key: string, percent: number, tags: string[] = []) =>
    t.admin.ok('mutation($key: String!, $percent: Float!, $tags: [String!]!) { createSlice(key: $key, percent: $percent, tags: $tags) { key } }', { key, percent, tags });
  const sliceHistory = async (key: string) =>
    (
      await t.admin.ok<{ history: { nodes: { action: string; actor: string; reason: string | null; sliceKey: string | null; after: unknown }[] } }>(
        'query($key: String!) { history(sliceKey: $key, first: 50) { nodes { action actor reason sliceKey after } } }',
        { key },
      )
    ).history.nodes;

  it('refuses a raise from the local start of the 25th to the local end of the 27th, across a month and a year boundary; lowering and rollback pass', async () => {
    await releaseManager.ok(CREATE_WINDOW, { key: 'salary-run', timeZone: 'Africa/Nairobi', recurrence: SALARY_RUN });
    await createSlice('payments.provider.mpesa', 5);

    // 20:59 UTC on the 24th is 23:59 in Nairobi: not yet frozen.
    moveTo('2026-12-24T20:59:00.000Z');
    await releaseManager.ok(SET_ROLLOUT, { key: 'payments.provider.mpesa', percent: 6 });
    expect((await t.admin.ok<{ slice: { freeze: unknown } }>(SLICE_FREEZE, { key: 'payments.provider.mpesa' })).slice.freeze).toEqual({
      active: null,
      next: { window: 'salary-run', timeZone: 'Africa/Nairobi', from: '2026-12-24T21:00:00.000Z', until: '2026-12-27T21:00:00.000Z' },
    });

    // 00:00 on the 25th in Nairobi.
    moveTo('2026-12-24T21:00:00.000Z');
    const refused = await releaseManager.error(SET_ROLLOUT, { key: 'payments.provider.mpesa', percent: 7 });
    expect(refused.extensions).toMatchObject({ code: 'CONFLICT', errorCode: 'FREEZE_WINDOW', window: 'salary-run', until: '2026-12-27T21:00:00.000Z', timeZone: 'Africa/Nairobi' });
    const targeting = await releaseManager.error(
      'mutation { setTargeting(key: "payments.provider.mpesa", reason: "more", rules: [], include: [], exclude: [], stickinessAttribute: "accountId") { version } }',
    );
    expect(targeting.extensions?.errorCode).toBe('FREEZE_WINDOW');
    expect((await t.admin.ok<{ slice: { freeze: unknown } }>(SLICE_FREEZE, { key: 'payments.provider.mpesa' })).slice.freeze).toEqual({
      active: { window: 'salary-run', timeZone: 'Africa/Nairobi', from: null, until: '2026-12-27T21:00:00.000Z' },
      next: { window: 'salary-run', timeZone: 'Africa/Nairobi', from: '2027-01-24T21:00:00.000Z', until: '2027-01-27T21:00:00.000Z' },
    });

    // Lowering is allowed; so are rollback and archive-free lowering at any time. Resume raises: refused.
    expect((await releaseManager.ok<{ setRollout: { basisPoints: number } }>(SET_ROLLOUT, { key: 'payments.provider.mpesa', percent: 2 })).setRollout.basisPoints).toBe(200);
    const responder = t.as(await t.tokenFor('incident-responder'));
    await responder.ok('mutation { rollback(key: "payments.provider.mpesa", reason: "errors") { state } }');
    expect((await releaseManager.error('mutation { resume(key: "payments.provider.mpesa", reason: "fixed") { state } }')).extensions?.errorCode).toBe('FREEZE_WINDOW');

    // 23:59 on the 27th in Nairobi: still frozen; 00:00 on the 28th: not.
    moveTo('2026-12-27T20:59:00.000Z');
    expect((await releaseManager.error('mutation { resume(key: "payments.provider.mpesa", reason: "fixed") { state } }')).extensions?.errorCode).toBe('FREEZE_WINDOW');
    moveTo('2026-12-27T21:00:00.000Z');
    await releaseManager.ok('mutation { resume(key: "payments.provider.mpesa", reason: "fixed") { state } }');
    await releaseManager.ok(SET_ROLLOUT, { key: 'payments.provider.mpesa', percent: 20 });

    // Next month, next year: the 25th of January in Nairobi.
    moveTo('2027-01-24T21:00:00.000Z');
    expect((await releaseManager.error(SET_ROLLOUT, { key: 'payments.provider.mpesa', percent: 50 })).extensions).toMatchObject({
      errorCode: 'FREEZE_WINDOW',
      until: '2027-01-27T21:00:00.000Z',
    });

    // Every row recorded the manual clock's time, and the chain still verifies.
    expect((await t.admin.ok<{ verifyHistory: { ok: boolean } }>('{ verifyHistory { ok } }')).verifyHistory.ok).toBe(true);
  });

  it('an admin overrides with a reason, recorded in history beside the change; a release manager may not', async () => {
    await createSlice('api.get-transactions', 5);
    await t.admin.ok(CREATE_WINDOW, { key: 'year-end', timeZone: 'Pacific/Auckland', from: '2026-12-19T00:00:00.000Z', until: '2027-01-05T00:00:00.000Z' });

    const forbidden = await releaseManager.error(SET_ROLLOUT, { key: 'api.get-transactions', percent: 10, freezeOverride: 'I really need it' });
    expect(forbidden.extensions).toMatchObject({ code: 'FORBIDDEN', errorCode: 'FREEZE_OVERRIDE_FORBIDDEN' });

    await t.admin.ok(SET_ROLLOUT, { key: 'api.get-transactions', percent: 10, freezeOverride: 'regulator deadline: INC-42' });
    const rows = await sliceHistory('api.get-transactions');
    expect(rows.map((r) => r.action)).toEqual(['ROLLOUT_SET', 'FREEZE_OVERRIDDEN', 'SLICE_CREATED']);
    expect(rows[1]).toMatchObject({
      reason: 'ramp',
      after: { operation: 'setRollout', override: 'regulator deadline: INC-42', windows: [{ key: 'year-end', until: '2027-01-05T00:00:00.000Z', timeZone: 'Pacific/Auckland' }] },
    });
    expect(rows[1]!.actor).toBe(rows[0]!.actor);

    // History still verifies, and replay rebuilds the slice from its own rows (not the override's).
    expect((await t.admin.ok<{ verifyHistory: { ok: boolean } }>('{ verifyHistory { ok } }')).verifyHistory.ok).toBe(true);
    const replayed = await t.app.get(HistoryService).replay();
    expect((replayed.slices.get('api.get-transactions') as { basisPoints: number }).basisPoints).toBe(1000);
    expect([...replayed.freezeWindows.keys()]).toEqual(['year-end']);
  });

  it('createSlice above 0 % is an exposure raise: refused in a window unless an admin overrides; at 0 % it passes', async () => {
    await t.admin.ok(CREATE_WINDOW, { key: 'year-end', timeZone: 'Pacific/Auckland', from: '2026-12-19T00:00:00.000Z', until: '2027-01-05T00:00:00.000Z' });
    const CREATE = `mutation($key: String!, $percent: Float!, $freezeOverride: String) { createSlice(key: $key, percent: $percent, freezeOverride: $freezeOverride) { key } }`;
    const refused = await releaseManager.error(CREATE, { key: 'api.new-route', percent: 5 });
    expect(refused.extensions).toMatchObject({ errorCode: 'FREEZE_WINDOW', window: 'year-end', sliceKey: 'api.new-route' });
    expect(await sliceHistory('api.new-route')).toEqual([]);
    expect((await releaseManager.error(CREATE, { key: 'api.new-route', percent: 5, freezeOverride: 'please' })).extensions?.errorCode).toBe('FREEZE_OVERRIDE_FORBIDDEN');
    // At 0 % nobody is on NEW: no window stops it, and an override would let nothing through.
    await releaseManager.ok(CREATE, { key: 'api.dark-route', percent: 0 });
    expect((await t.admin.error(CREATE, { key: 'api.other-route', percent: 0, freezeOverride: 'why not' })).extensions?.errorCode).toBe('INVALID_INPUT');
    await t.admin.ok(CREATE, { key: 'api.new-route', percent: 5, freezeOverride: 'regulator deadline: INC-43' });
    const rows = await sliceHistory('api.new-route');
    expect(rows.map((r) => r.action)).toEqual(['SLICE_CREATED', 'FREEZE_OVERRIDDEN']);
    expect(rows[1]).toMatchObject({ after: { operation: 'createSlice', override: 'regulator deadline: INC-43' } });
    expect((await t.admin.ok<{ verifyHistory: { ok: boolean } }>('{ verifyHistory { ok } }')).verifyHistory.ok).toBe(true);
  });

  it('a window with a tag covers only the slices with that tag', async () => {
    await createSlice('payments.provider.mpesa', 5, ['payments']);
    await createSlice('api.get-transactions', 5, ['api']);
    await t.admin.ok(CREATE_WINDOW, { key: 'payments-freeze', timeZone: 'Europe/London', from: '2026-12-19T00:00:00.000Z', until: '2026-12-21T00:00:00.000Z', tag: 'payments' });
    expect((await releaseManager.error(SET_ROLLOUT, { key: 'payments.provider.mpesa', percent: 10 })).extensions?.errorCode).toBe('FREEZE_WINDOW');
    await releaseManager.ok(SET_ROLLOUT, { key: 'api.get-transactions', percent: 10 });
  });

  it('create, update, delete: versions, idempotency, who may, history rows, and replay', async () => {
    const created = await releaseManager.ok<{ createFreezeWindow: { version: number } }>(CREATE_WINDOW, {
      key: 'salary-run',
      timeZone: 'Africa/Nairobi',
      recurrence: { daysOfMonth: [27, 25, 26, 25], at: '00:00', duration: '1d' },
      idempotencyKey: 'create-salary-run',
    });
    expect(created.createFreezeWindow).toMatchObject({
      kind: 'RECURRING',
      recurrence: { daysOfMonth: [25, 26, 27], weekdays: null, at: '00:00', duration: '1d' },
      tag: null,
      version: 1,
    });
    // A retry returns the first answer and writes nothing.
    expect(
      (
        await releaseManager.ok(CREATE_WINDOW, {
          key: 'salary-run',
          timeZone: 'Africa/Nairobi',
          recurrence: { daysOfMonth: [27, 25, 26, 25], at: '00:00', duration: '1d' },
          idempotencyKey: 'create-salary-run',
        })
      ).createFreezeWindow,
    ).toEqual(created.createFreezeWindow);
    expect((await releaseManager.error(CREATE_WINDOW, { key: 'salary-run', timeZone: 'UTC', recurrence: SALARY_RUN })).extensions?.errorCode).toBe('FREEZE_WINDOW_ALREADY_EXISTS');

    const updated = await releaseManager.ok<{ updateFreezeWindow: { version: number; recurrence: unknown } }>(UPDATE_WINDOW, {
      key: 'salary-run',
      timeZone: 'Africa/Nairobi',
      recurrence: SALARY_RUN,
      expectedVersion: 1,
    });
    expect(updated.updateFreezeWindow.version).toBe(2);
    expect((await releaseManager.error(UPDATE_WINDOW, { key: 'salary-run', timeZone: 'UTC', recurrence: SALARY_RUN, expectedVersion: 1 })).extensions?.errorCode).toBe(
      'FREEZE_WINDOW_VERSION_CONFLICT',
    );

    // While the window is on, only an admin may change it (that may lift the freeze); only an admin deletes.
    moveTo('2026-12-25T00:00:00.000Z');
    expect(
      (await releaseManager.error(UPDATE_WINDOW, { key: 'salary-run', timeZone: 'Africa/Nairobi', recurrence: { ...SALARY_RUN, duration: '1h' } })).extensions?.errorCode,
    ).toBe('FREEZE_OVERRIDE_FORBIDDEN');
    expect((await releaseManager.error(DELETE_WINDOW, { key: 'salary-run' })).extensions?.code).toBe('FORBIDDEN');
    await t.admin.ok(DELETE_WINDOW, { key: 'salary-run' });
    expect((await t.admin.error('{ freezeWindow(key: "salary-run") { key } }')).extensions?.errorCode).toBe('FREEZE_WINDOW_NOT_FOUND');

    const rows = (
      await t.admin.ok<{ history: { nodes: { action: string; before: { version: number } | null; after: { key: string; version: number } | null }[] } }>(
        '{ history(first: 50) { nodes { action before after } } }',
      )
    ).history.nodes.filter((r) => r.action.startsWith('FREEZE_'));
    expect(rows.map((r) => [r.action, r.before?.version ?? null, r.after?.version ?? null])).toEqual([
      ['FREEZE_WINDOW_DELETED', 2, null],
      ['FREEZE_WINDOW_UPDATED', 1, 2],
      ['FREEZE_WINDOW_CREATED', null, 1],
    ]);
    expect((await t.admin.ok<{ verifyHistory: { ok: boolean } }>('{ verifyHistory { ok } }')).verifyHistory.ok).toBe(true);
    expect((await t.app.get(HistoryService).replay()).freezeWindows.size).toBe(0);
    // Windows change nothing SDKs evaluate: the snapshot revision stays where the last slice change left it.
    expect((await t.app.get(HistoryRepository).configurationHead()).revision).toBe(0);
  });

  it('refuses hostile input field by field and changes nothing', async () => {
    const refuse = async (vars: Record<string, unknown>, field: string) => {
      const e = await releaseManager.error(CREATE_WINDOW, { key: 'w', timeZone: 'Africa/Nairobi', ...vars });
      expect({ field, code: e.extensions?.code }).toEqual({ field, code: 'BAD_USER_INPUT' });
      expect(JSON.stringify(e.extensions?.field ?? e.extensions)).toContain(field);
    };
    await refuse({ timeZone: 'Mars/Olympus_Mons', recurrence: SALARY_RUN }, 'timeZone');
    await refuse({ timeZone: 'x'.repeat(65), recurrence: SALARY_RUN }, 'timeZone');
    await refuse({ from: '2026-12-25T00:00:00Z', until: '2026-12-25T00:00:00Z' }, 'until');
    await refuse({ from: '2026-12-26T00:00:00Z', until: '2026-12-25T00:00:00Z' }, 'until');
    await refuse({ from: '2026-12-26T00:00:00Z', until: '2036-12-25T00:00:00Z' }, 'until');
    await refuse({ from: '2026-12-26T00:00:00Z' }, 'until');
    await refuse({}, 'recurrence');
    await refuse({ from: '2026-12-26T00:00:00Z', until: '2026-12-27T00:00:00Z', recurrence: SALARY_RUN }, 'recurrence');
    await refuse({ recurrence: { ...SALARY_RUN, duration: '400d' } }, 'recurrence.duration');
    await refuse({ recurrence: { ...SALARY_RUN, duration: '0m' } }, 'recurrence.duration');
    await refuse({ recurrence: { ...SALARY_RUN, duration: '1e9d' } }, 'recurrence.duration');
    await refuse({ recurrence: { ...SALARY_RUN, daysOfMonth: [] } }, 'recurrence.daysOfMonth');
    await refuse({ recurrence: { ...SALARY_RUN, daysOfMonth: [32] } }, 'recurrence.daysOfMonth[0]');
    await refuse({ recurrence: { ...SALARY_RUN, weekdays: [0] } }, 'recurrence.weekdays[0]');
    await refuse({ recurrence: { ...SALARY_RUN, at: '24:00' } }, 'recurrence.at');
    await refuse({ key: 'k'.repeat(129), recurrence: SALARY_RUN }, 'key');
    await refuse({ key: 'Not A Key', recurrence: SALARY_RUN }, 'key');
    await refuse({ recurrence: SALARY_RUN, tag: 'BAD TAG' }, 'tag');
    await refuse({ recurrence: SALARY_RUN, description: 'd'.repeat(2001) }, 'description');
    expect((await t.admin.ok<{ freezeWindows: unknown[] }>('{ freezeWindows { key } }')).freezeWindows).toEqual([]);

    // Too many windows.
    for (let i = 0; i < 100; i++) await t.admin.ok(CREATE_WINDOW, { key: `w${i}`, timeZone: 'UTC', recurrence: SALARY_RUN });
    expect((await t.admin.error(CREATE_WINDOW, { key: 'w100', timeZone: 'UTC', recurrence: SALARY_RUN })).extensions?.errorCode).toBe('FREEZE_WINDOW_LIMIT_REACHED');
    // A viewer may read, not create.
    const viewer = t.as(await t.tokenFor('viewer'));
    expect((await viewer.ok<{ freezeWindows: unknown[] }>('{ freezeWindows { key } }')).freezeWindows).toHaveLength(100);
    expect((await viewer.error(CREATE_WINDOW, { key: 'v', timeZone: 'UTC', recurrence: SALARY_RUN })).extensions?.code).toBe('FORBIDDEN');
  });
});
