/**
 * Switchyard decisions → OpenFeature resolutions.
 *
 * A slice is a boolean flag: `true` is NEW, `false` is LEGACY. Every {@link DecisionReason} is
 * mapped explicitly below; adding a reason to the core makes `openFeatureReason` fail to compile
 * until it is mapped here (and in docs/openfeature.md).
 */
import { ErrorCode, StandardResolutionReasons, type FlagMetadata, type ResolutionDetails, type ResolutionReason } from '@openfeature/server-sdk';
import type { Decision, DecisionReason } from '../index.js';

/** What one Switchyard reason becomes in OpenFeature: a standard reason, and an error code when it is an error. */
export interface ReasonMapping {
  readonly reason: ResolutionReason;
  /** Set for the reasons that are errors: the resolution then carries the caller's default value. */
  readonly errorCode?: ErrorCode;
}

const TARGETING_MATCH: ReasonMapping = Object.freeze({ reason: StandardResolutionReasons.TARGETING_MATCH });
const SPLIT: ReasonMapping = Object.freeze({ reason: StandardResolutionReasons.SPLIT });
const DISABLED: ReasonMapping = Object.freeze({ reason: StandardResolutionReasons.DISABLED });
const DEFAULT: ReasonMapping = Object.freeze({ reason: StandardResolutionReasons.DEFAULT });
const FLAG_NOT_FOUND: ReasonMapping = Object.freeze({ reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND });
const GENERAL_ERROR: ReasonMapping = Object.freeze({ reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.GENERAL });

/** The OpenFeature reason (and error code) for a Switchyard reason. */
export function openFeatureReason(reason: DecisionReason): ReasonMapping {
  switch (reason) {
    // Segments decided: the subject was forced to one side, or a rule's segments chose its share.
    case 'INCLUDED':
    case 'EXCLUDED':
    case 'RULE':
      return TARGETING_MATCH;
    // The slice's own percentage placed the subject (0 % and 100 % included: still the rollout).
    case 'ROLLOUT':
      return SPLIT;
    // Everyone is on LEGACY whatever the targeting: the slice is switched off in the control plane.
    // A segment rolled back by an incident responder: switched off for that segment, the same kind
    // of answer as a whole-slice rollback (switchyardReason in the metadata tells them apart).
    case 'ROLLED_BACK':
    case 'SEGMENT_ROLLED_BACK':
    case 'ARCHIVED':
      return DISABLED;
    // The share needs an id and the context has none: LEGACY, Switchyard's configured fallback.
    // Not the TARGETING_KEY_MISSING error: that would hand back the caller's default, and a
    // default of `true` would send unplaceable subjects to NEW where `decide` sends them to LEGACY.
    case 'NO_STICKINESS':
      return DEFAULT;
    case 'UNKNOWN_SLICE':
      return FLAG_NOT_FOUND;
    case 'ERROR':
      return GENERAL_ERROR;
    default:
      return unmapped(reason);
  }
}

/** Compile-time exhaustiveness: `reason` is `never` here unless a reason is missing above. At run time, an error. */
function unmapped(reason: never): ReasonMapping {
  void reason;
  return GENERAL_ERROR;
}

/** The `variant` of a successful resolution. */
export type SwitchyardVariant = 'new' | 'legacy';

/**
 * The OpenFeature resolution of a Switchyard decision for the boolean flag `flagKey`.
 *
 * Successful resolutions carry the decision's own value (`true` for NEW), whatever the default:
 * a rolled-back slice answers `false` even to a caller whose default is `true`, which is the point
 * of a rollback. Errors (unknown slice, malformed slice) carry `defaultValue`, as OpenFeature
 * requires. `flagMetadata` holds `switchyardReason`, `revision` (when a configuration is in use)
 * and `ruleIndex` (for RULE).
 */
export function resolutionFor(flagKey: string, decision: Decision, defaultValue: boolean, revision: number | null): ResolutionDetails<boolean> {
  const mapping = openFeatureReason(decision.reason);
  const flagMetadata: FlagMetadata = { switchyardReason: decision.reason };
  if (revision !== null) flagMetadata.revision = revision;
  if (decision.ruleIndex !== undefined) flagMetadata.ruleIndex = decision.ruleIndex;
  if (mapping.errorCode !== undefined) {
    return {
      value: defaultValue,
      reason: mapping.reason,
      errorCode: mapping.errorCode,
      errorMessage: errorMessage(flagKey, decision.reason, revision),
      flagMetadata,
    };
  }
  const variant: SwitchyardVariant = decision.path === 'NEW' ? 'new' : 'legacy';
  return { value: decision.path === 'NEW', variant, reason: mapping.reason, flagMetadata };
}

function errorMessage(flagKey: string, reason: DecisionReason, revision: number | null): string {
  if (reason === 'UNKNOWN_SLICE') {
    return revision === null ? `no Switchyard configuration yet: slice "${flagKey}" is unknown` : `no slice "${flagKey}" in the Switchyard configuration (revision ${revision})`;
  }
  return `Switchyard could not decide for slice "${flagKey}" (reason ${reason})`;
}
