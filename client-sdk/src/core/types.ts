/**
 * The evaluable configuration and the decision it yields.
 *
 * These types are the contract between the control plane (which stores and serves them) and
 * every evaluator (the service's `evaluate`, the SDK). If you change one, the snapshot format
 * changes: update the server's snapshot builder and the decision vectors deliberately.
 */

/** Which side of a cutover a subject is sent to. */
export type Path = 'LEGACY' | 'NEW';

/** Lifecycle state of a slice. Only `ACTIVE` slices can send anyone to `NEW`. */
export type SliceState = 'ACTIVE' | 'ROLLED_BACK' | 'ARCHIVED';

/** Why a decision came out the way it did: a closed set. */
export type DecisionReason = 'UNKNOWN_SLICE' | 'ROLLED_BACK' | 'ARCHIVED' | 'SEGMENT_ROLLED_BACK' | 'EXCLUDED' | 'INCLUDED' | 'NO_STICKINESS' | 'RULE' | 'ROLLOUT' | 'ERROR';

/** Constraint operators, with exactly Unleash's semantics. */
export const OPERATORS = [
  'IN',
  'NOT_IN',
  'STR_STARTS_WITH',
  'STR_ENDS_WITH',
  'STR_CONTAINS',
  'NUM_EQ',
  'NUM_GT',
  'NUM_GTE',
  'NUM_LT',
  'NUM_LTE',
  'DATE_AFTER',
  'DATE_BEFORE',
  'SEMVER_EQ',
  'SEMVER_GT',
  'SEMVER_GTE',
  'SEMVER_LT',
  'SEMVER_LTE',
] as const;
/** One of {@link OPERATORS}. */
export type Operator = (typeof OPERATORS)[number];

/** One condition on one context attribute. */
export interface Constraint {
  readonly attribute: string;
  readonly operator: Operator;
  /** List operators (IN, NOT_IN, STR_*) take any number; NUM_*, DATE_*, SEMVER_* exactly one. */
  readonly values: readonly string[];
  readonly inverted?: boolean;
  readonly caseInsensitive?: boolean;
}

/** A named, reusable set of subjects: every constraint must hold. */
export interface SegmentDefinition {
  readonly key: string;
  readonly constraints: readonly Constraint[];
}

/** "Subjects in all of these segments get this share on NEW." */
export interface RuleDefinition {
  readonly segments: readonly string[];
  /** 0..10000 */
  readonly basisPoints: number;
}

/** Per slice: who is forced to LEGACY (`exclude`, always wins), forced to NEW (`include`), and ordered rules. */
export interface TargetingDefinition {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
  readonly rules: readonly RuleDefinition[];
}

/** Everything needed to decide for one slice. */
export interface SliceDefinition {
  readonly key: string;
  readonly state: SliceState;
  /** 0..10000: the slice's own rollout, for subjects no rule matches. */
  readonly basisPoints: number;
  readonly stickinessAttribute: string;
  readonly targeting: TargetingDefinition;
  /**
   * Segments an incident responder sent back to LEGACY on this slice (`rollbackSegment`), kept
   * apart from `targeting` so that `resumeSegment` restores exactly what targeting decided. A
   * subject in any of them decides LEGACY with reason SEGMENT_ROLLED_BACK, before `exclude`.
   * Absent means none, so a slice that never had one is served exactly as before.
   */
  readonly rolledBackSegments?: readonly string[];
  /**
   * Observation settings, not part of the decision (docs/outcomes.md). Absent means off, so that a
   * slice that never set them is served exactly as before: `watched` makes SDKs report this slice's
   * outcomes every few seconds instead of every interval; `shadowBasisPoints` (1..10000) is the
   * share of `compare` calls that also run the other path.
   */
  readonly watched?: true;
  readonly shadowBasisPoints?: number;
}

/** The whole evaluable configuration at one revision. */
export interface SnapshotDefinition {
  readonly revision: number;
  readonly slices: readonly SliceDefinition[];
  readonly segments: readonly SegmentDefinition[];
}

/** A flat map of attribute name to string value: `{ userId: '42', country: 'KE' }`. */
export type EvaluationContext = Readonly<Record<string, string | undefined>>;

/** The answer and why. `ruleIndex` is set only when `reason` is `RULE`. */
export interface Decision {
  readonly path: Path;
  readonly reason: DecisionReason;
  readonly ruleIndex?: number;
}
