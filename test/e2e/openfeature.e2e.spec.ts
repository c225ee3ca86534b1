import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import { ErrorCode, OpenFeature, ProviderEvents, ProviderStatus, type Client, type EventDetails } from '@openfeature/server-sdk';
import type { ClientOptions, SwitchyardClient } from '@switchyard/client-sdk';
import { SwitchyardProvider } from '@switchyard/client-sdk/openfeature';
import { waitFor } from '../../client-sdk/src/testing/wait-for.js';
import { createApp } from '../../src/app.factory.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSegment, createSlice, evaluate, uniqueKey } from '../utils/operations.js';

/**
 * The OpenFeature provider against the real service, driven through the OpenFeature API only:
 * slices created over GraphQL are boolean flags with OpenFeature reasons; a setRollout is a
 * CONFIGURATION_CHANGED naming the slice; the service stopping makes the provider STALE (still
 * answering) and its return makes it READY. The service keeps its data on disk (or in its
 * PostgreSQL scratch database with DATABASE_URL) so that it can be stopped and started again.
 */
describe('OpenFeature provider against the service', () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-openfeature-'));
  let t: TestApp;
  /** The service instance currently running: t.app, then the restarted one. */
  let running: INestApplication | null = null;
  let port = 0;
  let token: string;
  let provider: SwitchyardProvider;
  let of: Client;

  const staff = uniqueKey('staff');
  const testers = uniqueKey('testers');
  const kenya = uniqueKey('kenya');
  const keys = {
    full: uniqueKey('of.full'),
    zero: uniqueKey('of.zero'),
    included: uniqueKey('of.included'),
    excluded: uniqueKey('of.excluded'),
    rule: uniqueKey('of.rule'),
    rolledBack: uniqueKey('of.rolled-back'),
    byAccount: uniqueKey('of.by-account'),
  };

  const options = (overrides: Partial<ClientOptions> = {}): ClientOptions => ({
    url: `http://127.0.0.1:${port}`,
    token,
    appName: 'openfeature-e2e',
    initTimeoutMs: 5_000,
    heartbeatTimeoutMs: 2_000,
    pollIntervalMs: 200,
    backoff: { initialMs: 50, maxMs: 300 },
    ...overrides,
  });

  const switchyard = (): SwitchyardClient => provider.client!;
  const setRollout = (key: string, percent: number) =>
    t.admin.ok('mutation($key: String!, $percent: Float!) { setRollout(key: $key, reason: "test", percent: $percent) { key } }', { key, percent });

  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_STREAM_HEARTBEAT_MS: '500', SWITCHYARD_DATA_DIR: join(dir, 'data') });
    running = t.app;
    port = Number(new URL(t.baseUrl).port);
    token = await t.tokenFor('sdk');

    await createSegment(t.admin, staff, [{ attribute: 'userId', operator: 'IN', values: ['alice'] }]);
    await createSegment(t.admin, testers, [{ attribute: 'beta', operator: 'IN', values: ['true'] }]);
    await createSegment(t.admin, kenya, [{ attribute: 'country', operator: 'IN', values: ['KE'] }]);
    await createSlice(t.admin, { key: keys.full, percent: 100 });
    await createSlice(t.admin, { key: keys.zero, percent: 0 });
    await createSlice(t.admin, { key: keys.included, percent: 0, targeting: { include: [staff, testers] } });
    await createSlice(t.admin, { key: keys.excluded, percent: 100, targeting: { exclude: [staff] } });
    await createSlice(t.admin, { key: keys.rule, percent: 0, targeting: { rules: [{ segments: [kenya], percent: 100 }] } });
    await createSlice(t.admin, { key: keys.rolledBack, percent: 100 });
    await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "openfeature e2e") { key } }', { key: keys.rolledBack });
    await createSlice(t.admin, { key: keys.byAccount, percent: 50, stickinessAttribute: 'accountId' });

    provider = new SwitchyardProvider(options());
    await OpenFeature.setProviderAndWait(provider);
    of = OpenFeature.getClient();
    // The snapshot follows commits asynchronously: wait for the last change to be in it.
    await waitFor(() => switchyard().explain(keys.byAccount, {}).reason !== 'UNKNOWN_SLICE', 10_000, 'the configuration');
  });

  afterAll(async () => {
    await OpenFeature.close(); // closes the provider, which closes the client it created
    await OpenFeature.clearProviders();
    await running?.close();
    await t?.database.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is READY once setProviderAndWait resolves', () => {
    expect(of.providerStatus).toBe(ProviderStatus.READY);
    expect(OpenFeature.providerMetadata.name).toBe('switchyard');
  });

  it('answers a 100 % slice true with SPLIT, and a 0 % slice false with SPLIT', async () => {
    await expect(of.getBooleanValue(keys.full, false, { targetingKey: 'u-1' })).resolves.toBe(true);
    const revision = switchyard().status().revision;
    await expect(of.getBooleanDetails(keys.full, false, { targetingKey: 'u-1' })).resolves.toEqual({
      flagKey: keys.full,
      value: true,
      variant: 'new',
      reason: 'SPLIT',
      flagMetadata: { switchyardReason: 'ROLLOUT', revision },
    });
    // 100 % needs no id at all.
    await expect(of.getBooleanValue(keys.full, false)).resolves.toBe(true);
    await expect(of.getBooleanDetails(keys.zero, true, { targetingKey: 'u-1' })).resolves.toMatchObject({ value: false, variant: 'legacy', reason: 'SPLIT' });
  });

  it('answers include, exclude and rules with TARGETING_MATCH, on the converted context', async () => {
    await expect(of.getBooleanDetails(keys.included, false, { targetingKey: 'alice' })).resolves.toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
      flagMetadata: { switchyardReason: 'INCLUDED' },
    });
    // A boolean context value matches the segment's "true".
    await expect(of.getBooleanDetails(keys.included, false, { targetingKey: 'bob', beta: true })).resolves.toMatchObject({ value: true, reason: 'TARGETING_MATCH' });
    await expect(of.getBooleanDetails(keys.included, false, { targetingKey: 'bob' })).resolves.toMatchObject({ value: false, reason: 'SPLIT' });

    await expect(of.getBooleanDetails(keys.excluded, true, { targetingKey: 'alice' })).resolves.toMatchObject({
      value: false,
      variant: 'legacy',
      reason: 'TARGETING_MATCH',
      flagMetadata: { switchyardReason: 'EXCLUDED' },
    });
    await expect(of.getBooleanValue(keys.excluded, false, { targetingKey: 'bob' })).resolves.toBe(true);

    await expect(of.getBooleanDetails(keys.rule, false, { targetingKey: 'u-2', country: 'KE' })).resolves.toMatchObject({
      value: true,
      reason: 'TARGETING_MATCH',
      flagMetadata: { switchyardReason: 'RULE', ruleIndex: 0 },
    });
    await expect(of.getBooleanDetails(keys.rule, true, { targetingKey: 'u-2', country: 'US' })).resolves.toMatchObject({ value: false, reason: 'SPLIT' });
  });

  it('answers a rolled-back slice false with DISABLED, whatever the default', async () => {
    await expect(of.getBooleanDetails(keys.rolledBack, true, { targetingKey: 'u-1' })).resolves.toMatchObject({
      value: false,
      reason: 'DISABLED',
      flagMetadata: { switchyardReason: 'ROLLED_BACK' },
    });
  });

  it('answers an unknown slice with the default, ERROR and FLAG_NOT_FOUND', async () => {
    const key = uniqueKey('of.unknown');
    await expect(of.getBooleanValue(key, true, { targetingKey: 'u-1' })).resolves.toBe(true);
    await expect(of.getBooleanDetails(key, false, { targetingKey: 'u-1' })).resolves.toMatchObject({
      flagKey: key,
      value: false,
      reason: 'ERROR',
      errorCode: ErrorCode.FLAG_NOT_FOUND,
    });
  });

  it('uses targetingKey as the slice’s stickiness attribute when the context lacks it, as the server’s evaluate does', async () => {
    const accounts = Array.from({ length: 200 }, (_, i) => `acct-${i}`);
    const viaOpenFeature = await Promise.all(accounts.map((a) => of.getBooleanValue(keys.byAccount, false, { targetingKey: a })));
    expect(viaOpenFeature).toEqual(accounts.map((a) => switchyard().decide(keys.byAccount, { accountId: a }) === 'NEW'));
    expect(viaOpenFeature.filter(Boolean).length).toBeGreaterThan(50);
    expect(viaOpenFeature.filter((v) => !v).length).toBeGreaterThan(50);
    for (const [i, account] of accounts.slice(0, 10).entries()) {
      const server = await evaluate(t.admin, keys.byAccount, { accountId: account });
      expect(server.path === 'NEW').toBe(viaOpenFeature[i]);
    }
    // An accountId in the context wins over targetingKey.
    const onNew = accounts[viaOpenFeature.indexOf(true)]!;
    const onLegacy = accounts[viaOpenFeature.indexOf(false)]!;
    await expect(of.getBooleanValue(keys.byAccount, true, { targetingKey: onNew, accountId: onLegacy })).resolves.toBe(false);
    // No id at all: LEGACY, Switchyard's fallback, not the default.
    await expect(of.getBooleanDetails(keys.byAccount, true, { userId: 'u-1' })).resolves.toMatchObject({
      value: false,
      reason: 'DEFAULT',
      flagMetadata: { switchyardReason: 'NO_STICKINESS' },
    });
  });

  it('emits CONFIGURATION_CHANGED naming the slice after setRollout', async () => {
    const changes: string[][] = [];
    const handler = (details?: EventDetails<ProviderEvents.ConfigurationChanged>) => void changes.push([...(details?.flagsChanged ?? [])]);
    of.addHandler(ProviderEvents.ConfigurationChanged, handler);
    try {
      await setRollout(keys.zero, 100);
      await waitFor(() => changes.some((c) => c.includes(keys.zero)), 10_000, 'CONFIGURATION_CHANGED');
      expect(changes).toEqual([[keys.zero]]);
      await expect(of.getBooleanDetails(keys.zero, false, { targetingKey: 'u-1' })).resolves.toMatchObject({ value: true, reason: 'SPLIT' });
    } finally {
      of.removeHandler(ProviderEvents.ConfigurationChanged, handler);
    }
  });

  it('is in ERROR with a token the service refuses, answering defaults (FLAG_NOT_FOUND) rather than throwing', async () => {
    const domain = 'refused';
    const errors: string[] = [];
    const client = OpenFeature.getClient(domain);
    client.addHandler(ProviderEvents.Error, (details) => void errors.push(details?.message ?? ''));
    const refused = new SwitchyardProvider(options({ token: 'sy_not_a_real_token_at_all_000000', initTimeoutMs: 300 }));
    await expect(OpenFeature.setProviderAndWait(domain, refused)).rejects.toThrow(/UNAUTHORIZED/);
    expect(client.providerStatus).toBe(ProviderStatus.ERROR);
    expect(errors).toEqual([expect.stringContaining('refuses the token')]);
    await expect(client.getBooleanDetails(keys.full, false, { targetingKey: 'u-1' })).resolves.toMatchObject({
      value: false,
      reason: 'ERROR',
      errorCode: ErrorCode.FLAG_NOT_FOUND,
    });
    await refused.onClose();
    expect(refused.client).toBeUndefined();
  });

  it('is STALE while the service is stopped, still answering, and READY when it is back', async () => {
    const seen: string[] = [];
    const stale = () => void seen.push('stale');
    const ready = () => void seen.push('ready');
    const changes: string[][] = [];
    const changed = (details?: EventDetails<ProviderEvents.ConfigurationChanged>) => void changes.push([...(details?.flagsChanged ?? [])]);
    of.addHandler(ProviderEvents.Stale, stale);
    of.addHandler(ProviderEvents.Ready, ready);
    of.addHandler(ProviderEvents.ConfigurationChanged, changed);
    seen.length = 0; // addHandler runs a READY handler at once for a READY provider
    try {
      await running!.close();
      running = null;
      await waitFor(() => of.providerStatus === ProviderStatus.STALE, 10_000, 'STALE');
      expect(seen).toEqual(['stale']);
      // The last snapshot keeps answering.
      await expect(of.getBooleanDetails(keys.full, false, { targetingKey: 'u-1' })).resolves.toMatchObject({ value: true, reason: 'SPLIT' });

      // The service again, same data, same port.
      running = await createApp(t.config, { logger: false });
      await running.listen(port, '127.0.0.1');
      await waitFor(() => of.providerStatus === ProviderStatus.READY, 10_000, 'READY');
      expect(seen).toEqual(['stale', 'ready']);

      // And it follows changes again.
      await setRollout(keys.full, 0);
      await waitFor(() => changes.some((c) => c.includes(keys.full)), 10_000, 'CONFIGURATION_CHANGED after the restart');
      expect(changes).toEqual([[keys.full]]);
      await expect(of.getBooleanValue(keys.full, true, { targetingKey: 'u-1' })).resolves.toBe(false);
    } finally {
      of.removeHandler(ProviderEvents.Stale, stale);
      of.removeHandler(ProviderEvents.Ready, ready);
      of.removeHandler(ProviderEvents.ConfigurationChanged, changed);
    }
  });
});
