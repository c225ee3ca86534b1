/**
 * The Switchyard decision core: pure, synchronous, no I/O, no timers, no dependencies.
 * The server's `evaluate` and the SDK both decide through this module, never through a copy.
 *
 * @packageDocumentation
 */

export * from './types.js';
export { compileSnapshot, applyDelta, compactSnapshot, definitionOf, evaluateSlice, ERROR_DECISION, type CompiledSnapshot } from './evaluate.js';
export { compileConstraint, compileSegment, matchesConstraint, readAttribute, foldCase, CURRENT_TIME_ATTRIBUTE, type ContextPredicate } from './constraint-match.js';
export {
  validateConstraint,
  isOperator,
  isSingleValueOperator,
  SLICE_KEY_PATTERN,
  SEGMENT_KEY_PATTERN,
  ATTRIBUTE_NAME_PATTERN,
  MAX_CONSTRAINT_VALUES,
  type ConstraintProblem,
  type ConstraintProblemCode,
} from './validation.js';
export { MAX_BASIS_POINTS, isBasisPoints, percentToBasisPoints, basisPointsToPercent } from './basis-points.js';
export { positionOf, positionFor, positionWithPrefix, pathAt, POSITIONS } from './bucket.js';
export { murmur3, prepareHashPrefix, hashWithPrefix, type HashPrefix } from './murmur3.js';
export { parseSemver, isSemver, compareSemver, compareSemverText, type SemVer } from './semver.js';
export { parseRfc3339, isRfc3339, compareRfc3339Text, compareEpochMillis, type Instant } from './rfc3339.js';
export { parseDecimal } from './decimal.js';
export { diffSnapshots, patchSnapshot, readDelta, type SnapshotDelta } from './delta.js';
export { jsonEqual } from './json-equal.js';
export {
  LATENCY_SCHEME,
  LATENCY_RELATIVE_ERROR,
  LATENCY_MIN_MS,
  LATENCY_MAX_MS,
  LATENCY_BUCKETS,
  compactOf,
  latencyBucketOf,
  latencyBucketValue,
  isLatencyBucket,
  sparseOf,
  mergeSparse,
  latencyQuantile,
  type SparseHistogram,
} from './latency-histogram.js';
