import { cliAgainst } from '../utils/cli.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSlice, getSlice, uniqueKey } from '../utils/operations.js';

/** `switchyard freeze list|create|delete` (docs/freeze-windows.md) against the real service, run in-process as main.ts runs it. */
describe('switchyard freeze', () => {
  let t: TestApp;
  let releaseManager: string;

  beforeAll(async () => {
    t = await createTestApp();
    releaseManager = await t.tokenFor('release-manager', 'ana-release-manager');
  });
  afterAll(async () => {
    await t?.close();
  });

  const cli = cliAgainst(() => t.baseUrl);

  it('a release manager creates the salary run and a one-off window; list shows them; only an admin deletes', async () => {
    const created = await cli(['freeze', 'create', 'salary-run', '--time-zone', 'Africa/Nairobi', '--days', '25', '--duration', '3d', '--reason', 'contract'], releaseManager);
    expect(created).toMatchObject({ code: 0, stderr: '' });
    expect(created.stdout).toBe('freeze window salary-run: created, days 25, from 00:00 for 3d (Africa/Nairobi), every slice.\n');
    const oneOff = await cli(
      [
        'freeze',
        'create',
        'year-end',
        '--time-zone',
        'Pacific/Auckland',
        '--from',
        '2026-12-20T00:00:00+13:00',
        '--until',
        '2027-01-05T00:00:00+13:00',
        '--tag',
        'payments',
        '--json',
      ],
      releaseManager,
    );
    expect(oneOff.code).toBe(0);
    expect(JSON.parse(oneOff.stdout)).toMatchObject({ key: 'year-end', kind: 'ONE_OFF', from: '2026-12-19T11:00:00.000Z', until: '2027-01-04T11:00:00.000Z', tag: 'payments' });

    const bad = await cli(['freeze', 'create', 'bad', '--time-zone', 'Mars/Olympus', '--days', '25', '--duration', '3d'], releaseManager);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('timeZone');

    const list = await cli(['freeze', 'list', '--json'], releaseManager);
    expect((JSON.parse(list.stdout) as { key: string }[]).map((w) => w.key)).toEqual(['salary-run', 'year-end']);

    const refused = await cli(['freeze', 'delete', 'salary-run', '--reason', 'done'], releaseManager);
    expect(refused.code).not.toBe(0);
    expect((await cli(['freeze', 'delete', 'salary-run', '--reason', 'done'])).code).toBe(0);
    expect((await cli(['freeze', 'list'])).stdout).toContain('year-end');
  });

  it('a raise during a window is refused with a hint; an admin applies it with --freeze-override, recorded in history', async () => {
    const key = uniqueKey('cli.frozen');
    const tag = uniqueKey('frozen-tag');
    await createSlice(t.admin, { key, tags: [tag] });
    const hour = 60 * 60_000;
    const window = uniqueKey('incident');
    const from = new Date(Date.now() - hour).toISOString();
    const until = new Date(Date.now() + hour).toISOString();
    expect((await cli(['freeze', 'create', window, '--time-zone', 'UTC', '--from', from, '--until', until, '--tag', tag, '--reason', 'incident'], releaseManager)).code).toBe(0);

    const refused = await cli(['set', key, '5', '--reason', 'ramp'], releaseManager);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('FREEZE_WINDOW');
    expect(refused.stderr).toContain('--freeze-override');
    // An override from a release manager is refused by the service; nothing moves.
    expect((await cli(['set', key, '5', '--reason', 'ramp', '--freeze-override', 'please'], releaseManager)).code).not.toBe(0);
    expect((await getSlice(t.admin, key)).percent).toBe(0);

    const applied = await cli(['set', key, '5', '--reason', 'ramp', '--freeze-override', 'the fix must ship']);
    expect(applied).toMatchObject({ code: 0, stderr: '' });
    expect((await getSlice(t.admin, key)).percent).toBe(5);
    const rows = await t.dataSource.query<{ action: string; reason: string | null }[]>(`SELECT action, reason FROM history WHERE slice_key = $1 ORDER BY position`, [key]);
    expect(rows.map((r) => r.action)).toEqual(['SLICE_CREATED', 'FREEZE_OVERRIDDEN', 'ROLLOUT_SET']);

    // Resume, targeting and slice creation take it too (the service decides who may).
    for (const command of [['resume'], ['targeting', 'set'], ['slice', 'create']]) {
      expect((await cli([...command, '--help'])).stdout).toContain('--freeze-override');
    }
    expect((await cli(['freeze', 'delete', window, '--reason', 'over'])).code).toBe(0);
  });
});
