/**
 * The Unleash client protocol as Switchyard serves it: the wire shapes of `GET /api/client/features`
 * and of the `/api/client/streaming` events.
 *
 * Read in the official Node SDK (unleash-client 6.x, the dev dependency): `lib/feature.d.ts`
 * (`ClientFeaturesResponse`, `DeltaEvent`, `Hydration`), `lib/strategy/strategy.js` (which constraint
 * fields each operator reads: `values` for IN, NOT_IN and STR_*, `value` for NUM_*, DATE_* and
 * SEMVER_*), `lib/strategy/flexible-rollout-strategy.js` (`rollout`, `stickiness`, `groupId`), and
 * `lib/repository/index.js` (how a full response and delta events are applied). The Go, Java and
 * .NET SDKs read the same shapes (they hand `unleash-connected` and `unleash-updated` alike to the
 * same delta handling). Our own types, not the SDK's: this is a contract we serve, and the service
 * must not depend on a dev dependency.
 */

/** One Unleash constraint. `value` is set for the single-value operators, `values` always. */
export interface UnleashConstraint {
  readonly contextName: string;
  readonly operator: string;
  readonly values: readonly string[];
  readonly value?: string;
  readonly inverted: boolean;
  readonly caseInsensitive: boolean;
}

/** `default` (on for everyone who passes the constraints) or `flexibleRollout`. */
export interface UnleashStrategy {
  readonly name: 'default' | 'flexibleRollout';
  readonly constraints: readonly UnleashConstraint[];
  /** flexibleRollout: `{ rollout: "37", stickiness: "userId", groupId: "<slice key>" }`; default: `{}`. */
  readonly parameters: Readonly<Record<string, string>>;
}

/** One toggle: one slice. */
export interface UnleashFeature {
  readonly name: string;
  readonly type: 'release';
  readonly project: 'default';
  readonly description?: string;
  readonly enabled: boolean;
  readonly stale: false;
  readonly impressionData: false;
  readonly strategies: readonly UnleashStrategy[];
  readonly variants: readonly never[];
}

/** The body of `GET /api/client/features`. */
export interface UnleashFeaturesResponse {
  readonly version: 2;
  readonly features: readonly UnleashFeature[];
  readonly query: Readonly<Record<string, unknown>>;
}

/** Streaming events' payload: `{ events: [...] }` in both `unleash-connected` and `unleash-updated`. */
export type UnleashDeltaEvent =
  | { readonly type: 'hydration'; readonly eventId: number; readonly features: readonly UnleashFeature[]; readonly segments: readonly never[] }
  | { readonly type: 'feature-updated'; readonly eventId: number; readonly feature: UnleashFeature }
  | { readonly type: 'feature-removed'; readonly eventId: number; readonly featureName: string; readonly project: 'default' };

export interface UnleashDelta {
  readonly events: readonly UnleashDeltaEvent[];
}
