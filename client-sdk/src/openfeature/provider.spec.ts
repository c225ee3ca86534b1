/**
 * The provider over a real client, against the SDK's protocol peer (testing/protocol-server.ts):
 * decisions, the targetingKey rule, lifecycle and events. The real service is in
 * test/e2e/openfeature.e2e.spec.ts.
 */
import { ErrorCode, OpenFeature, ProviderEvents, ProviderStatus, type EventDetails } from '@openfeature/server-sdk';
import type { ClientStatus, SnapshotDefinition, SwitchyardClient } from '../index.js';
import { ClientFactory, snapshotAt } from '../testing/fixtures.js';
import { ProtocolServer, respondStatus } from '../testing/protocol-server.js';
import { waitFor } from '../testing/wait-for.js';
import { latencyBucketOf, mergeSparse } from '../core/index.js';
import type { MetricsReport } from '../transport/metrics-reporter.js';
import { OUTCOME_TRACKING_EVENT, SwitchyardProvider } from './provider.js';

type Recorded = { type: ProviderEvents; details: EventDetails | undefined };

const EVENTS = [ProviderEvents.Ready, ProviderEvents.Stale, ProviderEvents.Error, ProviderEvents.ConfigurationChanged] as const;

/** Every event the provider emits, in order. */
function record(provider: SwitchyardProvider): Recorded[] {
  const events: Recorded[] = [];
  for (const type of EVENTS) provider.events.addHandler(type, (details?: EventDetails) => void events.push({ type, details }));
  return events;
}

const types = (events: Recorded[]): ProviderEvents[] => events.map((e) => e.type);

/** snapshotAt(1) plus `split`: 50 % by accountId, and `paused`: rolled back at 100 %. */
function snapshot(revision: number): SnapshotDefinition {
  const base = snapshotAt(revision);
  return {
    ...base,
    slices: [
      ...base.slices,
      { key: 'split', state: 'ACTIVE', basisPoints: 5_000, stickinessAttribute: 'accountId', targeting: { include: [], exclude: [], rules: [] } },
      { key: 'paused', state: 'ROLLED_BACK', basisPoints: 10_000, stickinessAttribute: 'userId', targeting: { include: [], exclude: [], rules: [] } },
    ],
  };
}

describe('SwitchyardProvider', () => {
  let server: ProtocolServer;
  const clients = new ClientFactory();
  const providers: SwitchyardProvider[] = [];

  async function wrapped(): Promise<{ client: SwitchyardClient; provider: SwitchyardProvider }> {
    const client = await clients.create(server.url);
    const provider = new SwitchyardProvider(client);
    providers.push(provider);
    return { client, provider };
  }

  beforeEach(async () => {
    server = await ProtocolServer.start(snapshot(1));
  });
  afterEach(async () => {
    await Promise.all(providers.splice(0).map((p) => p.onClose()));
    await OpenFeature.clearProviders();
    await clients.closeAll();
    await server.stop();
  });

  describe('resolution', () => {
    it('answers each slice as a boolean flag with its OpenFeature reason', async () => {
      const { provider } = await wrapped();
      await provider.initialize();
      expect(provider.resolveBoolean('checkout', false, { targetingKey: 'bob' })).toEqual({
        value: true,
        variant: 'new',
        reason: 'SPLIT',
        flagMetadata: { switchyardReason: 'ROLLOUT', revision: 1 },
      });
      expect(provider.resolveBoolean('search', false, { targetingKey: 'alice' })).toMatchObject({
        value: true,
        reason: 'TARGETING_MATCH',
        flagMetadata: { switchyardReason: 'INCLUDED' },
      });
      expect(provider.resolveBoolean('search', true, { targetingKey: 'bob' })).toMatchObject({ value: false, variant: 'legacy', reason: 'SPLIT' });
      expect(provider.resolveBoolean('paused', true, { targetingKey: 'bob' })).toMatchObject({ value: false, reason: 'DISABLED' });
      expect(provider.resolveBoolean('split', true, {})).toMatchObject({ value: false, reason: 'DEFAULT', flagMetadata: { switchyardReason: 'NO_STICKINESS' } });
      expect(provider.resolveBoolean('nope', true, {})).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND });
    });

    it('uses targetingKey as the slice’s stickiness attribute when that is missing, and decides as the client does', async () => {
      const { client, provider } = await wrapped();
      await provider.initialize();
      const keys = Array.from({ length: 400 }, (_, i) => `acct-${i}`);
      const viaProvider = keys.map((k) => provider.resolveBoolean('split', false, { targetingKey: k }).value);
      expect(viaProvider).toEqual(keys.map((k) => client.decide('split', { accountId: k }) === 'NEW'));
      // Both sides are reached: the key did place subjects.
      expect(viaProvider.filter(Boolean).length).toBeGreaterThan(100);
      expect(viaProvider.filter((v) => !v).length).toBeGreaterThan(100);
      // An explicit attribute wins over targetingKey.
      const onNew = keys.find((k) => client.decide('split', { accountId: k }) === 'NEW')!;
      const onLegacy = keys.find((k) => client.decide('split', { accountId: k }) === 'LEGACY')!;
      expect(provider.resolveBoolean('split', false, { targetingKey: onNew, accountId: onLegacy }).value).toBe(false);
      // Segments see the converted context (numbers as strings).
      expect(provider.resolveBoolean('search', false, { userId: 'alice', targetingKey: 'bob' }).reason).toBe('TARGETING_MATCH');
    });

    it('answers the default with TYPE_MISMATCH for non-boolean types', async () => {
      const { provider } = await wrapped();
      await provider.initialize();
      await expect(provider.resolveStringEvaluation('checkout', 'x')).resolves.toMatchObject({ value: 'x', reason: 'ERROR', errorCode: ErrorCode.TYPE_MISMATCH });
      await expect(provider.resolveNumberEvaluation('checkout', 3)).resolves.toMatchObject({ value: 3, errorCode: ErrorCode.TYPE_MISMATCH });
      await expect(provider.resolveObjectEvaluation('checkout', { a: 1 })).resolves.toMatchObject({ value: { a: 1 }, errorCode: ErrorCode.TYPE_MISMATCH });
    });

    it('never throws: a hostile context gives the default with GENERAL', async () => {
      const { provider } = await wrapped();
      await provider.initialize();
      const hostile = Object.defineProperty({}, 'userId', {
        enumerable: true,
        get() {
          throw new Error('boom');
        },
      });
      expect(provider.resolveBoolean('checkout', false, hostile)).toMatchObject({ value: false, reason: 'ERROR', errorCode: ErrorCode.GENERAL });
    });

    it('answers PROVIDER_NOT_READY before initialize when it creates its own client', () => {
      const provider = new SwitchyardProvider({ url: server.url, token: 't', appName: 'a' });
      expect(provider.client).toBeUndefined();
      expect(provider.resolveBoolean('checkout', false, {})).toMatchObject({ value: false, errorCode: ErrorCode.PROVIDER_NOT_READY });
    });
  });

  describe('lifecycle', () => {
    it('creates, and closes, its own client from options', async () => {
      const provider = new SwitchyardProvider({ url: server.url, token: 't', appName: 'of-test', initTimeoutMs: 2_000 });
      providers.push(provider);
      await provider.initialize();
      const client = provider.client!;
      expect(client.status()).toMatchObject({ connected: true, revision: 1 });
      expect(provider.resolveBoolean('checkout', false, {}).value).toBe(true);
      await provider.onClose();
      expect(client.status().state).toBe('closed');
      expect(provider.client).toBeUndefined();
    });

    it('leaves a client it was given open', async () => {
      const { client, provider } = await wrapped();
      await provider.initialize();
      await provider.onClose();
      expect(client.status().state).toBe('streaming');
      expect(provider.resolveBoolean('checkout', false, {}).value).toBe(true);
    });

    it('fails fatally on invalid client options', async () => {
      const provider = new SwitchyardProvider({ url: 'ftp://nope', token: 't', appName: 'a' });
      await expect(provider.initialize()).rejects.toMatchObject({ code: ErrorCode.PROVIDER_FATAL });
    });

    it('rejects initialize when the service refuses the token, keeps answering, and is READY once accepted', async () => {
      server.streamHandler = respondStatus(401);
      server.snapshotHandler = respondStatus(401);
      const provider = new SwitchyardProvider({
        url: server.url,
        token: 't',
        appName: 'of-test',
        initTimeoutMs: 200,
        bootstrap: snapshot(1),
        backoff: { initialMs: 10, maxMs: 100 },
        pollIntervalMs: 50,
      });
      providers.push(provider);
      const events = record(provider);
      await expect(provider.initialize()).rejects.toMatchObject({ code: ErrorCode.GENERAL, message: expect.stringContaining('UNAUTHORIZED') });
      // The bootstrap answers meanwhile.
      expect(provider.resolveBoolean('checkout', false, {})).toMatchObject({ value: true, flagMetadata: { revision: 1 } });
      expect(events).toEqual([]);

      server.streamHandler = null;
      server.snapshotHandler = null;
      await waitFor(() => types(events).includes(ProviderEvents.Ready), 5_000, 'READY');
      expect(types(events)).toEqual([ProviderEvents.Ready]);
    });
  });

  describe('a wrong URL', () => {
    it('rejects initialize naming WRONG_URL, and is in ERROR (not STALE) when the URL stops leading to the service', async () => {
      const misdirected = new SwitchyardProvider({ url: `${server.url}/graphql`, token: 't', appName: 'of-test', initTimeoutMs: 100, metrics: false });
      providers.push(misdirected);
      await expect(misdirected.initialize()).rejects.toMatchObject({ code: ErrorCode.GENERAL, message: expect.stringContaining('WRONG_URL') });

      // A proxy in front of the service losing its route: 404 for the SDK's paths.
      const { provider } = await wrapped();
      await provider.initialize();
      const events = record(provider);
      server.streamHandler = respondStatus(404);
      server.snapshotHandler = respondStatus(404);
      server.dropStreams();
      await waitFor(() => types(events).includes(ProviderEvents.Error), 5_000, 'ERROR');
      expect(types(events)).toEqual([ProviderEvents.Stale, ProviderEvents.Error]);
      expect(events[1]!.details).toMatchObject({ metadata: { lastErrorCode: 'WRONG_URL' } });

      server.streamHandler = null;
      server.snapshotHandler = null;
      await waitFor(() => types(events).includes(ProviderEvents.Ready), 5_000, 'READY');
    });
  });

  describe('events', () => {
    it('STALE when the service is lost, READY when it is back, once each', async () => {
      const { client, provider } = await wrapped();
      await provider.initialize();
      const events = record(provider);

      await server.stop();
      await waitFor(() => !client.status().connected, 5_000, 'the client to notice');
      // Failed reconnects go on; they are not new events.
      await waitFor(() => server.requests.length > 0 && client.status().lastError !== null, 5_000, 'a failed attempt');
      expect(types(events)).toEqual([ProviderEvents.Stale]);
      expect(events[0]!.details).toMatchObject({ message: expect.stringContaining('not heard'), metadata: { revision: 1, source: 'service' } });

      await server.listen();
      await waitFor(() => types(events).length === 2, 5_000, 'READY');
      expect(types(events)).toEqual([ProviderEvents.Stale, ProviderEvents.Ready]);
      expect(client.status().connected).toBe(true);
    });

    it('ERROR when the service refuses the token while disconnected, READY when it accepts it again', async () => {
      const { provider } = await wrapped();
      await provider.initialize();
      const events = record(provider);
      server.streamHandler = respondStatus(401);
      server.snapshotHandler = respondStatus(401);
      server.dropStreams();
      await waitFor(() => types(events).includes(ProviderEvents.Error), 5_000, 'ERROR');
      // STALE first (the stream ended, nothing failed yet), then the refusal.
      expect(types(events)).toEqual([ProviderEvents.Stale, ProviderEvents.Error]);
      expect(events[1]!.details).toMatchObject({ message: expect.stringContaining('refuses the token'), metadata: { lastErrorCode: 'UNAUTHORIZED' } });

      server.streamHandler = null;
      server.snapshotHandler = null;
      await waitFor(() => types(events).includes(ProviderEvents.Ready), 5_000, 'READY');
      expect(types(events)).toEqual([ProviderEvents.Stale, ProviderEvents.Error, ProviderEvents.Ready]);
    });

    it('CONFIGURATION_CHANGED with the changed slices on a new revision; nothing for a revision that changes none', async () => {
      const { client, provider } = await wrapped();
      await provider.initialize();
      const events = record(provider);
      const next = snapshot(2);
      server.publish({ ...next, slices: next.slices.map((s) => (s.key === 'checkout' ? { ...s, basisPoints: 0 } : s)) });
      await waitFor(() => events.length > 0, 5_000, 'the event');
      expect(events).toEqual([{ type: ProviderEvents.ConfigurationChanged, details: { flagsChanged: ['checkout'], message: 'Switchyard revision 2', metadata: { revision: 2 } } }]);
      expect(provider.resolveBoolean('checkout', true, {}).value).toBe(false);

      // Revision 3 decides as revision 2 did.
      server.publish({ ...snapshot(3), slices: snapshot(3).slices.map((s) => (s.key === 'checkout' ? { ...s, basisPoints: 0 } : s)) });
      await waitFor(() => client.status().revision === 3, 5_000, 'revision 3');
      expect(events).toHaveLength(1);
    });

    it('emits nothing after onClose', async () => {
      const { client, provider } = await wrapped();
      await provider.initialize();
      const events = record(provider);
      await provider.onClose();
      server.publish(snapshot(2));
      server.dropStreams();
      await waitFor(() => client.status().revision === 2 || !client.status().connected, 5_000, 'the client to move');
      await client.close();
      expect(events).toEqual([]);
    });
  });

  describe('through the OpenFeature API', () => {
    it('is READY after setProviderAndWait, evaluates, and relays STALE and READY to client handlers', async () => {
      const { client, provider } = await wrapped();
      await OpenFeature.setProviderAndWait(provider);
      const of = OpenFeature.getClient();
      expect(of.providerStatus).toBe(ProviderStatus.READY);
      await expect(of.getBooleanDetails('search', false, { targetingKey: 'alice' })).resolves.toMatchObject({
        flagKey: 'search',
        value: true,
        reason: 'TARGETING_MATCH',
        variant: 'new',
      });
      await expect(of.getBooleanDetails('nope', true)).resolves.toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND });

      const seen: string[] = [];
      of.addHandler(ProviderEvents.Stale, () => void seen.push('stale'));
      of.addHandler(ProviderEvents.Ready, () => void seen.push('ready'));
      seen.length = 0; // addHandler runs a READY handler at once when the provider is READY
      await server.stop();
      await waitFor(() => of.providerStatus === ProviderStatus.STALE, 5_000, 'STALE');
      // Still answering from the last snapshot.
      await expect(of.getBooleanValue('checkout', false)).resolves.toBe(true);
      await server.listen();
      await waitFor(() => of.providerStatus === ProviderStatus.READY && client.status().connected, 5_000, 'READY');
      expect(seen).toEqual(['stale', 'ready']);
    });

    it("records outcomes tracked as 'switchyard.outcome', and ignores other events and incomplete details", async () => {
      const { client, provider } = await wrapped();
      await OpenFeature.setProviderAndWait(provider);
      const of = OpenFeature.getClient();
      of.track(OUTCOME_TRACKING_EVENT, { targetingKey: 'bob' }, { value: 12.5, flagKey: 'checkout', path: 'NEW', outcome: 'failed' });
      of.track(OUTCOME_TRACKING_EVENT, {}, { value: 3, flagKey: 'checkout', path: 'NEW', outcome: 'ok' });
      of.track('checkout-clicked', {}, { value: 3, flagKey: 'checkout', path: 'NEW', outcome: 'ok' });
      of.track(OUTCOME_TRACKING_EVENT, {}, { value: 3, flagKey: 'checkout', outcome: 'ok' }); // no path
      of.track(OUTCOME_TRACKING_EVENT, {}, { flagKey: 'checkout', path: 'LEGACY', outcome: 'ok' }); // no duration
      await client.close();
      const report = server.reports.at(-1) as MetricsReport;
      expect(report.outcomes).toEqual({
        checkout: {
          NEW: { calls: 2, failures: 1, latency: { scheme: 'log2pct-v1', buckets: mergeSparse([[[latencyBucketOf(12.5), 1]], [[latencyBucketOf(3), 1]]]) } },
        },
      });
    });

    it('is in ERROR, not blocking evaluation, when the service is not heard at start; READY once it is', async () => {
      await server.stop();
      const provider = new SwitchyardProvider({
        url: server.url,
        token: 't',
        appName: 'of-test',
        initTimeoutMs: 200,
        bootstrap: snapshot(1),
        backoff: { initialMs: 10, maxMs: 100 },
        pollIntervalMs: 50,
      });
      providers.push(provider);
      await expect(OpenFeature.setProviderAndWait(provider)).rejects.toThrow(/not heard/);
      const of = OpenFeature.getClient();
      expect(of.providerStatus).toBe(ProviderStatus.ERROR);
      await expect(of.getBooleanDetails('checkout', false)).resolves.toMatchObject({ value: true, reason: 'SPLIT' });
      await server.listen();
      await waitFor(() => of.providerStatus === ProviderStatus.READY, 5_000, 'READY');
    });
  });
});

describe('SwitchyardClient.onStatusChange', () => {
  let server: ProtocolServer;
  const clients = new ClientFactory();

  beforeEach(async () => {
    server = await ProtocolServer.start(snapshotAt(1));
  });
  afterEach(async () => {
    await clients.closeAll();
    await server.stop();
  });

  it('fires when connected flips and on each failure, and stops after unsubscribing', async () => {
    const client = await clients.create(server.url);
    const seen: ClientStatus[] = [];
    const unsubscribe = client.onStatusChange((status) => void seen.push(status));
    await server.stop();
    await waitFor(() => seen.some((s) => !s.connected), 5_000, 'the disconnection');
    // The failure that ended the stream is reported (while still connected), then connected flips.
    expect(seen[0]?.lastError).not.toBeNull();
    await waitFor(() => seen.filter((s) => !s.connected).length >= 2, 5_000, 'a failed reconnection');
    await server.listen();
    await waitFor(() => seen.some((s) => s.connected), 5_000, 'the reconnection');
    unsubscribe();
    const count = seen.length;
    await server.stop();
    await waitFor(() => !client.status().connected, 5_000, 'the drop');
    expect(seen).toHaveLength(count);
    clients.errors.length = 0;
  });

  it('reports a listener that throws as LISTENER_FAILED, without calling it again for that report', async () => {
    const client = await clients.create(server.url);
    let calls = 0;
    client.onStatusChange(() => {
      calls++;
      throw new Error('listener bug');
    });
    server.dropStreams();
    await waitFor(() => clients.codes().includes('LISTENER_FAILED'), 5_000, 'the report');
    expect(calls).toBeGreaterThan(0);
    expect(clients.errors.filter((e) => e.code === 'LISTENER_FAILED').length).toBe(calls);
  });
});
