/** Snapshots and client options for the SDK's tests. Not part of the SDK build. */
import { createClientWith, type ClientOptions, type ClientPorts, type SwitchyardClient } from '../client.js';
import type { SnapshotDefinition } from '../core/index.js';
import type { SwitchyardError } from '../errors.js';

/**
 * Two slices: `checkout` at `checkoutBasisPoints` (all NEW by default), and `search` at 0 % with the
 * `staff` segment (userId IN `staff`) included, so a change of the segment alone changes `search`.
 */
export function snapshotAt(revision: number, checkoutBasisPoints = 10_000, staff: readonly string[] = ['alice']): SnapshotDefinition {
  return {
    revision,
    slices: [
      { key: 'checkout', state: 'ACTIVE', basisPoints: checkoutBasisPoints, stickinessAttribute: 'userId', targeting: { include: [], exclude: [], rules: [] } },
      { key: 'search', state: 'ACTIVE', basisPoints: 0, stickinessAttribute: 'userId', targeting: { include: ['staff'], exclude: [], rules: [] } },
    ],
    segments: [{ key: 'staff', constraints: [{ attribute: 'userId', operator: 'IN', values: [...staff], inverted: false, caseInsensitive: false }] }],
  };
}

/** Creates clients with short timings, records their errors, and closes them all in `closeAll`. */
export class ClientFactory {
  readonly errors: SwitchyardError[] = [];
  private readonly clients: SwitchyardClient[] = [];

  /** @param defaults - options of every client, over the short timings (e.g. against a real service: token, app, longer timings). */
  constructor(private readonly defaults: Partial<ClientOptions> = {}) {}

  /** @param ports - time or storage of the test's own (a ManualClock, a fixed `random`). */
  async create(url: string, options: Partial<ClientOptions> = {}, ports: Partial<ClientPorts> = {}): Promise<SwitchyardClient> {
    const client = await createClientWith(
      {
        url,
        token: 'sy_test_sdk_token',
        appName: 'sdk-test',
        initTimeoutMs: 1_000,
        pollIntervalMs: 50,
        heartbeatTimeoutMs: 1_000,
        backoff: { initialMs: 10, maxMs: 100 },
        onError: (e) => this.errors.push(e),
        ...this.defaults,
        ...options,
      },
      ports,
    );
    this.clients.push(client);
    return client;
  }

  codes(): string[] {
    return this.errors.map((e) => e.code);
  }

  /** Closes every client, then forgets and returns the errors recorded (closing included). */
  async closeAll(): Promise<SwitchyardError[]> {
    await Promise.all(this.clients.splice(0).map((c) => c.close()));
    return this.errors.splice(0);
  }
}
