/**
 * The Switchyard client SDK: "legacy or new?" decided locally, in about a hundred nanoseconds,
 * from a snapshot of the configuration that the service streams to the SDK.
 *
 * ```ts
 * import { createClient } from '@switchyard/client-sdk';
 * const switchyard = await createClient({ url: 'https://switchyard.internal', token: process.env.SWITCHYARD_TOKEN!, appName: 'payments-api' });
 * const provider = switchyard.decide('payments.provider.mpesa', { userId: user.id, country: user.country });
 * ```
 *
 * Public API only: everything a host needs is exported from here. The decision core itself is
 * the `@switchyard/client-sdk/core` entry point.
 *
 * @packageDocumentation
 */

export {
  createClient,
  type ClientOptions,
  type SwitchyardClient,
  type ClientStatus,
  type ClientState,
  type SnapshotSource,
  type ClientErrorInfo,
  type ChangeEvent,
  type PathCounts,
  type RouteHandlers,
  type RouteOptions,
  type CompareHandlers,
  type FailureClassifier,
  type Redactor,
  type Outcome,
} from './client.js';
export { SwitchyardError, type SwitchyardErrorCode, type SwitchyardOperation } from './errors.js';
export type { BackoffOptions } from './sync/backoff.js';
export { SDK_NAME, SDK_VERSION } from './version.js';
export type {
  /** `'LEGACY' | 'NEW'`. */
  Path,
  /** The answer and why: `{ path, reason, ruleIndex? }`. */
  Decision,
  /** Why a decision came out the way it did (a closed set). */
  DecisionReason,
  /** A flat map of attribute name to string value, e.g. `{ userId: '42', country: 'KE' }`. */
  EvaluationContext,
  /** The evaluable configuration at one revision: the JSON of `GET /sdk/v1/snapshot`, usable as `bootstrap`. */
  SnapshotDefinition,
  /** One slice of a snapshot. */
  SliceDefinition,
  /** One segment of a snapshot. */
  SegmentDefinition,
  /** A slice's include / exclude / rules. */
  TargetingDefinition,
  /** One targeting rule. */
  RuleDefinition,
  /** One segment constraint. */
  Constraint,
  /** A constraint operator. */
  Operator,
  /** A slice's lifecycle state. */
  SliceState,
} from './core/index.js';
