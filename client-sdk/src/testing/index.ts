/**
 * `@switchyard/client-sdk/testing`: an in-memory Switchyard client for a host's own tests, so that
 * a service tests its routing without a running Switchyard. It has the real client's surface
 * (`decide`, `explain`, `route`, `onChange`, `status`, `counts`, `close`...) and decides through the
 * same core, from a configuration the test writes and changes.
 *
 * ```ts
 * import { InMemoryClient } from '@switchyard/client-sdk/testing';
 * const switchyard = new InMemoryClient({ slices: { 'payments.provider.mpesa': { percent: 100, exclude: ['salary-run'] } }, segments: { 'salary-run': [{ attribute: 'accountId', operator: 'IN', values: ['acme'] }] } });
 * expect(switchyard.decide('payments.provider.mpesa', { userId: '42', accountId: 'acme' })).toBe('LEGACY');
 * ```
 *
 * Only this file and in-memory-client.ts are built and published from src/testing/: the other
 * files there are this repository's own test helpers (tsconfig.json, "files").
 *
 * @packageDocumentation
 */

export { InMemoryClient, snapshotOf, type InMemoryClientOptions, type InMemoryConfiguration, type InMemoryRule, type InMemorySlice } from './in-memory-client.js';
