/**
 * The in-memory client for hosts' tests: it decides as the real client does from the same
 * configuration (checked against a real client bootstrapped with it), refuses fixtures the service
 * could never serve, and lets a test drive revisions, connection and failures with the real
 * client's notifications, behind the OpenFeature provider too.
 */
import { OpenFeature, ProviderEvents, ProviderStatus } from '@openfeature/server-sdk';
import fc from 'fast-check';
import { createClient, SwitchyardError, type ChangeEvent, type ClientStatus, type SnapshotDefinition, type SwitchyardClient } from '../index.js';
import { SwitchyardProvider } from '../openfeature/index.js';
import { InMemoryClient, snapshotOf, type InMemoryConfiguration } from './index.js';

const MPESA = 'payments.provider.mpesa';

/** 5 % overall, Kenya at 20 % by a rule, the salary-run accounts never, staff always. */
const PAYMENTS: InMemoryConfiguration = {
  slices: {
    [MPESA]: { percent: 5, exclude: ['salary-run'], include: ['staff'], rules: [{ segments: ['kenya'], percent: 20 }] },
    'api.get-transactions': 'NEW',
    'api.old': 'LEGACY',
  },
  segments: {
    'salary-run': [{ attribute: 'accountId', operator: 'IN', values: ['acme', 'globex'] }],
    staff: [{ attribute: 'email', operator: 'STR_ENDS_WITH', values: ['@switchyard.test'], caseInsensitive: true }],
    kenya: [{ attribute: 'country', operator: 'IN', values: ['KE'] }],
  },
};

describe('InMemoryClient', () => {
  describe('decisions', () => {
    it('decides exactly as a real client bootstrapped with the same configuration', async () => {
      const configuration = fc.record({
        basisPoints: fc.integer({ min: 0, max: 10_000 }),
        kenyaBasisPoints: fc.integer({ min: 0, max: 10_000 }),
        state: fc.constantFrom('ACTIVE' as const, 'ROLLED_BACK' as const, 'ARCHIVED' as const),
        excluded: fc.uniqueArray(fc.constantFrom('acme', 'globex', 'initech'), { maxLength: 2 }),
      });
      const subject = fc.record({
        userId: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
        accountId: fc.constantFrom('acme', 'globex', 'initech', 'umbrella'),
        country: fc.constantFrom('KE', 'GH', 'NG'),
      });
      await fc.assert(
        fc.asyncProperty(configuration, fc.array(subject, { minLength: 1, maxLength: 50 }), async (c, subjects) => {
          const segments = {
            'salary-run': [{ attribute: 'accountId', operator: 'IN' as const, values: c.excluded }],
            kenya: [{ attribute: 'country', operator: 'IN' as const, values: ['KE'] }],
          };
          const config: InMemoryConfiguration = {
            slices: { [MPESA]: { percent: c.basisPoints / 100, state: c.state, exclude: ['salary-run'], rules: [{ segments: ['kenya'], percent: c.kenyaBasisPoints / 100 }] } },
            segments,
          };
          // The snapshot written out by hand, not by snapshotOf: the shorthand's translation is under test too.
          const real = await realClientWith({
            revision: 1,
            slices: [
              {
                key: MPESA,
                state: c.state,
                basisPoints: c.basisPoints,
                stickinessAttribute: 'userId',
                targeting: { include: [], exclude: ['salary-run'], rules: [{ segments: ['kenya'], basisPoints: c.kenyaBasisPoints }] },
              },
            ],
            segments: Object.entries(segments).map(([key, constraints]) => ({ key, constraints })),
          });
          try {
            const sut = new InMemoryClient(config);
            for (const s of subjects) expect(sut.explain(MPESA, s)).toEqual(real.explain(MPESA, s));
            expect(sut.stickinessAttribute(MPESA)).toBe(real.stickinessAttribute(MPESA));
          } finally {
            await real.close();
          }
        }),
        { numRuns: 40 },
      );
    });

    it('gives each targeting step its reason', () => {
      const sut = new InMemoryClient(PAYMENTS);
      expect(sut.explain(MPESA, { userId: 'u1', accountId: 'acme', email: 'x@switchyard.test' })).toEqual({ path: 'LEGACY', reason: 'EXCLUDED' });
      expect(sut.explain(MPESA, { userId: 'u1', email: 'Ana@Switchyard.TEST' })).toEqual({ path: 'NEW', reason: 'INCLUDED' });
      expect(sut.explain(MPESA, { country: 'KE' })).toEqual({ path: 'LEGACY', reason: 'NO_STICKINESS' });
      expect(sut.explain(MPESA, { userId: 'u1', country: 'KE' })).toMatchObject({ reason: 'RULE', ruleIndex: 0 });
      expect(sut.explain(MPESA, { userId: 'u1' })).toMatchObject({ reason: 'ROLLOUT' });
      expect(sut.explain('api.get-transactions', {})).toEqual({ path: 'NEW', reason: 'ROLLOUT' });
      expect(sut.explain('api.old', { userId: 'u1' })).toEqual({ path: 'LEGACY', reason: 'ROLLOUT' });
      expect(sut.explain('api.unknown', { userId: 'u1' })).toEqual({ path: 'LEGACY', reason: 'UNKNOWN_SLICE' });
    });

    it('never throws at the host: a hostile context or a throwing clock answers LEGACY', () => {
      const sut = new InMemoryClient(PAYMENTS, {
        clock: () => {
          throw new Error('clock broken');
        },
      });
      const hostile = Object.defineProperty({}, 'userId', {
        get: () => {
          throw new Error('boom');
        },
        enumerable: true,
      }) as Record<string, string>;
      expect(sut.decide(MPESA, hostile)).toBe('LEGACY');
      expect(sut.explain(MPESA, null)).toMatchObject({ path: 'LEGACY' });
      expect(sut.decide(MPESA, 42 as unknown as Record<string, string>)).toBe('LEGACY');
    });

    it('routes to the handler of the decision, and counts decide, explain and route', () => {
      const sut = new InMemoryClient(PAYMENTS);
      const handlers = { legacy: () => 'legacy', next: () => 'next' };
      expect(sut.route('api.get-transactions', { userId: 'u1' }, handlers)).toBe('next');
      expect(sut.route('api.old', { userId: 'u1' }, handlers)).toBe('legacy');
      sut.decide('api.old', {});
      sut.explain('api.get-transactions', {});
      expect(sut.counts()).toEqual({ 'api.get-transactions': { NEW: 2, LEGACY: 0 }, 'api.old': { NEW: 0, LEGACY: 2 } });
      // A copy: the caller cannot change the client's counters.
      (sut.counts() as Record<string, { NEW: number }>)['api.old']!.NEW = 99;
      expect(sut.counts()['api.old']).toEqual({ NEW: 0, LEGACY: 2 });
    });

    it('takes the decision time from its clock for date constraints on currentTime', () => {
      let now = Date.parse('2030-01-01T00:00:00Z');
      const sut = new InMemoryClient(
        {
          slices: { launch: { percent: 100, include: ['after-launch'], rules: [] } },
          segments: { 'after-launch': [{ attribute: 'currentTime', operator: 'DATE_AFTER', values: ['2030-06-01T00:00:00Z'] }] },
        },
        { clock: () => now },
      );
      // At 100 % the rollout already says NEW; what changes is why.
      expect(sut.explain('launch', { userId: 'u1' }).reason).toBe('ROLLOUT');
      now = Date.parse('2030-07-01T00:00:00Z');
      expect(sut.explain('launch', { userId: 'u1' }).reason).toBe('INCLUDED');
    });
  });

  describe('fixtures', () => {
    it('turns the shorthand into the snapshot the service would serve', () => {
      expect(snapshotOf({ slices: { a: 'NEW', b: { percent: 0.25, stickinessAttribute: 'accountId', state: 'ROLLED_BACK' } } }, 7)).toEqual({
        revision: 7,
        slices: [
          { key: 'a', state: 'ACTIVE', basisPoints: 10_000, stickinessAttribute: 'userId', targeting: { include: [], exclude: [], rules: [] } },
          { key: 'b', state: 'ROLLED_BACK', basisPoints: 25, stickinessAttribute: 'accountId', targeting: { include: [], exclude: [], rules: [] } },
        ],
        segments: [],
      });
    });

    it.each<[string, InMemoryConfiguration]>([
      ['a percent with three decimals', { slices: { a: { percent: 0.125 } } }],
      ['a percent above 100', { slices: { a: { percent: 101 } } }],
      ['a rule percent that is not a number', { slices: { a: { rules: [{ segments: [], percent: Number.NaN }] } } }],
      ['an unknown segment', { slices: { a: { exclude: ['nobody-defined-this'] } } }],
      ['an unknown segment in a rule', { slices: { a: { rules: [{ segments: ['ghost'], percent: 5 }] } } }],
      ['an invalid slice key', { slices: { 'Not A Key': 'NEW' } }],
      ['an invalid stickiness attribute', { slices: { a: { stickinessAttribute: 'user id' } } }],
      ['an unknown state', { slices: { a: { state: 'PAUSED' as 'ACTIVE' } } }],
      ['an unknown operator', { segments: { s: [{ attribute: 'x', operator: 'LIKE' as 'IN', values: ['1'] }] } }],
      ['a semver constraint that is not semver', { segments: { s: [{ attribute: 'v', operator: 'SEMVER_GT', values: ['v1.2'] }] } }],
      ['a slice that is neither a path nor an object', { slices: { a: 'MAYBE' as 'NEW' } }],
    ])('refuses %s with a TypeError (the real client would silently answer LEGACY)', (_name, configuration) => {
      expect(() => new InMemoryClient(configuration)).toThrow(TypeError);
      expect(() => snapshotOf(configuration)).toThrow(TypeError);
    });

    it('copies the configuration: a test that changes its objects afterwards changes nothing', () => {
      const values = ['acme'];
      const sut = new InMemoryClient({ slices: { a: { percent: 100, exclude: ['vip'] } }, segments: { vip: [{ attribute: 'accountId', operator: 'IN', values }] } });
      values.push('globex');
      sut.setSlice('b', 'NEW'); // recompiles from what the client holds, not from the test's objects
      expect(sut.explain('a', { userId: 'u1', accountId: 'globex' })).toEqual({ path: 'NEW', reason: 'ROLLOUT' });
    });

    it('takes a whole snapshot (e.g. saved from GET /sdk/v1/snapshot) with its own revision, and copies it', () => {
      const saved = snapshotOf(PAYMENTS, 41) as { -readonly [K in keyof SnapshotDefinition]: SnapshotDefinition[K] };
      const sut = new InMemoryClient(saved);
      expect(sut.status().revision).toBe(41);
      saved.slices = [];
      expect(sut.decide('api.get-transactions', {})).toBe('NEW');
      expect(() => sut.update(snapshotOf(PAYMENTS, 41))).toThrow(TypeError); // revisions only grow
      expect(sut.update(snapshotOf(PAYMENTS, 45)).revision).toBe(45);
      expect(sut.setSlice('api.old', 'NEW').revision).toBe(46);
    });
  });

  describe('what the test drives', () => {
    it('update and setSlice are new revisions: listeners hear the slices that may decide differently', () => {
      const sut = new InMemoryClient(PAYMENTS);
      const events: ChangeEvent[] = [];
      const unsubscribe = sut.onChange((e) => events.push(e));

      expect(sut.setSlice(MPESA, { percent: 100, state: 'ROLLED_BACK' })).toEqual({ revision: 2, previousRevision: 1, changedSlices: [MPESA] });
      expect(sut.explain(MPESA, { userId: 'u1', email: 'a@switchyard.test' })).toEqual({ path: 'LEGACY', reason: 'ROLLED_BACK' });
      // The other slices and the segments are untouched.
      expect(sut.decide('api.get-transactions', {})).toBe('NEW');

      // A segment change reaches the slices that use it.
      sut.update({ ...PAYMENTS, segments: { ...PAYMENTS.segments, kenya: [{ attribute: 'country', operator: 'IN', values: ['KE', 'GH'] }] } });
      expect(events.map((e) => [e.revision, e.changedSlices])).toEqual([
        [2, [MPESA]],
        [3, [MPESA]],
      ]);

      unsubscribe();
      sut.setSlice('api.new', 'NEW');
      expect(events).toHaveLength(2);
      expect(sut.status().revision).toBe(4);
    });

    it('a listener that throws is reported as LISTENER_FAILED and does not stop the others', () => {
      const errors: SwitchyardError[] = [];
      const sut = new InMemoryClient(PAYMENTS, { onError: (e) => errors.push(e) });
      const heard: number[] = [];
      sut.onChange(() => {
        throw new Error('host bug');
      });
      sut.onChange((e) => heard.push(e.revision));
      expect(() => sut.setSlice('api.old', 'NEW')).not.toThrow();
      expect(heard).toEqual([2]);
      expect(errors.map((e) => [e.code, e.operation])).toEqual([['LISTENER_FAILED', 'listener']]);
      expect(sut.status().lastError).toMatchObject({ code: 'LISTENER_FAILED' });
    });

    it('follows the real client’s status: connecting without configuration, streaming with one, polling and stale when dropped', () => {
      let now = Date.parse('2030-01-01T00:00:00Z');
      const sut = new InMemoryClient(undefined, { clock: () => now });
      expect(sut.status()).toEqual({ state: 'connecting', revision: null, source: 'none', connected: false, staleSince: null, lastError: null });
      expect(sut.explain(MPESA, { userId: 'u1' })).toEqual({ path: 'LEGACY', reason: 'UNKNOWN_SLICE' });

      const statuses: ClientStatus[] = [];
      sut.onStatusChange((s) => statuses.push(s));
      sut.update(PAYMENTS);
      expect(sut.status()).toEqual({ state: 'streaming', revision: 1, source: 'service', connected: true, staleSince: null, lastError: null });

      now += 1_000;
      sut.setConnected(false);
      sut.setConnected(false); // no flip, no notification
      expect(sut.status()).toMatchObject({ state: 'polling', connected: false, staleSince: new Date(now) });
      // Decisions go on from the configuration held.
      expect(sut.decide('api.get-transactions', {})).toBe('NEW');

      const errors: string[] = [];
      sut.onStatusChange((s) => errors.push(s.lastError?.code ?? 'none'));
      sut.reportError(new SwitchyardError('UNAUTHORIZED', 'stream', 'token revoked', { httpStatus: 401 }));
      expect(sut.status().lastError).toEqual({ code: 'UNAUTHORIZED', operation: 'stream', message: 'token revoked', httpStatus: 401, at: new Date(now) });
      expect(errors).toEqual(['UNAUTHORIZED']);

      sut.setConnected(true);
      expect(statuses.map((s) => [s.state, s.connected])).toEqual([
        ['streaming', true],
        ['polling', false],
        ['polling', false],
        ['streaming', true],
      ]);
    });

    it('close: the state is closed, listeners hear it, decisions go on, no new configuration arrives', async () => {
      const sut = new InMemoryClient(PAYMENTS);
      const statuses: ClientStatus[] = [];
      sut.onStatusChange((s) => statuses.push(s));
      await sut.close();
      await sut.close();
      expect(sut.status()).toMatchObject({ state: 'closed', connected: false });
      expect(statuses.map((s) => s.state)).toEqual(['closed']);
      expect(sut.decide('api.get-transactions', {})).toBe('NEW');
      expect(() => sut.setSlice('api.old', 'NEW')).toThrow(Error);
      sut.setConnected(true);
      expect(sut.status().state).toBe('closed');
    });
  });

  describe('behind the OpenFeature provider', () => {
    afterEach(async () => {
      await OpenFeature.close();
    });

    it('is READY with a configuration, STALE when dropped, and reports configuration changes', async () => {
      const switchyard = new InMemoryClient(PAYMENTS);
      const provider = new SwitchyardProvider(switchyard);
      const events: string[] = [];
      provider.events.addHandler(ProviderEvents.Stale, () => void events.push('STALE'));
      provider.events.addHandler(ProviderEvents.Ready, () => void events.push('READY'));
      provider.events.addHandler(ProviderEvents.ConfigurationChanged, (details) => void events.push(`CHANGED ${String(details?.flagsChanged)}`));
      await OpenFeature.setProviderAndWait('in-memory', provider);
      const client = OpenFeature.getClient('in-memory');
      expect(client.providerStatus).toBe(ProviderStatus.READY);
      expect(await client.getBooleanValue('api.get-transactions', false, { targetingKey: 'u1' })).toBe(true);

      switchyard.setSlice('api.get-transactions', 'LEGACY');
      expect(await client.getBooleanValue('api.get-transactions', true, { targetingKey: 'u1' })).toBe(false);
      switchyard.setConnected(false);
      switchyard.setConnected(true);
      expect(events).toEqual(['CHANGED api.get-transactions', 'STALE', 'READY']);
    });
  });

  it('is a SwitchyardClient: code written against the real client takes it', () => {
    const useClient = (client: SwitchyardClient): string => client.decide('api.get-transactions', { userId: 'u1' });
    expect(useClient(new InMemoryClient(PAYMENTS))).toBe('NEW');
  });
});

/** A real client that answers from `bootstrap` only: no service behind its URL, no reports. */
async function realClientWith(bootstrap: SnapshotDefinition): Promise<SwitchyardClient> {
  // Port 9 (discard) on loopback refuses at once; the refusals go to onError and are of no interest here.
  return createClient({
    url: 'http://127.0.0.1:9',
    token: 'unused',
    appName: 'in-memory-spec',
    bootstrap,
    initTimeoutMs: 0,
    metrics: false,
    streaming: false,
    pollIntervalMs: 60_000,
    onError: () => undefined,
  });
}
