import { ErrorCode, StandardResolutionReasons } from '@openfeature/server-sdk';
import type { Decision, DecisionReason } from '../index.js';
import { openFeatureReason, resolutionFor } from './reasons.js';

describe('openFeatureReason', () => {
  // Every DecisionReason: the Record type makes this table fail to compile when one is added.
  const expected: Record<DecisionReason, { reason: string; errorCode?: ErrorCode }> = {
    INCLUDED: { reason: StandardResolutionReasons.TARGETING_MATCH },
    EXCLUDED: { reason: StandardResolutionReasons.TARGETING_MATCH },
    RULE: { reason: StandardResolutionReasons.TARGETING_MATCH },
    ROLLOUT: { reason: StandardResolutionReasons.SPLIT },
    ROLLED_BACK: { reason: StandardResolutionReasons.DISABLED },
    SEGMENT_ROLLED_BACK: { reason: StandardResolutionReasons.DISABLED },
    ARCHIVED: { reason: StandardResolutionReasons.DISABLED },
    NO_STICKINESS: { reason: StandardResolutionReasons.DEFAULT },
    UNKNOWN_SLICE: { reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.FLAG_NOT_FOUND },
    ERROR: { reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.GENERAL },
  };

  it.each(Object.entries(expected))('maps %s', (reason, mapping) => {
    expect(openFeatureReason(reason as DecisionReason)).toEqual(mapping);
  });

  it('answers a general error for a reason it does not know (a newer core at run time)', () => {
    expect(openFeatureReason('SOMETHING_NEW' as DecisionReason)).toEqual({ reason: 'ERROR', errorCode: ErrorCode.GENERAL });
  });
});

describe('resolutionFor', () => {
  const decision = (path: Decision['path'], reason: DecisionReason, ruleIndex?: number): Decision => (ruleIndex === undefined ? { path, reason } : { path, reason, ruleIndex });

  it('gives NEW as true with variant "new", and the reason and revision as metadata', () => {
    expect(resolutionFor('checkout', decision('NEW', 'ROLLOUT'), false, 12)).toEqual({
      value: true,
      variant: 'new',
      reason: 'SPLIT',
      flagMetadata: { switchyardReason: 'ROLLOUT', revision: 12 },
    });
  });

  it('gives LEGACY as false with variant "legacy", and the rule index for RULE', () => {
    expect(resolutionFor('checkout', decision('LEGACY', 'RULE', 2), true, 3)).toEqual({
      value: false,
      variant: 'legacy',
      reason: 'TARGETING_MATCH',
      flagMetadata: { switchyardReason: 'RULE', revision: 3, ruleIndex: 2 },
    });
  });

  it('answers false for a rolled-back slice even when the caller’s default is true', () => {
    expect(resolutionFor('checkout', decision('LEGACY', 'ROLLED_BACK'), true, 7)).toMatchObject({ value: false, variant: 'legacy', reason: 'DISABLED' });
    expect(resolutionFor('checkout', decision('LEGACY', 'ARCHIVED'), true, 7)).toMatchObject({ value: false, reason: 'DISABLED' });
  });

  it('answers false (LEGACY) for a subject without a stickiness value, with reason DEFAULT', () => {
    expect(resolutionFor('checkout', decision('LEGACY', 'NO_STICKINESS'), true, 7)).toMatchObject({ value: false, variant: 'legacy', reason: 'DEFAULT' });
  });

  it('answers the default with FLAG_NOT_FOUND for an unknown slice, saying whether any configuration is known', () => {
    const found = resolutionFor('nope', decision('LEGACY', 'UNKNOWN_SLICE'), true, 5);
    expect(found).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.FLAG_NOT_FOUND, flagMetadata: { switchyardReason: 'UNKNOWN_SLICE', revision: 5 } });
    expect(found.variant).toBeUndefined();
    expect(found.errorMessage).toContain('"nope"');
    const none = resolutionFor('nope', decision('LEGACY', 'UNKNOWN_SLICE'), false, null);
    expect(none).toMatchObject({ value: false, errorCode: ErrorCode.FLAG_NOT_FOUND, flagMetadata: { switchyardReason: 'UNKNOWN_SLICE' } });
    expect(none.flagMetadata).not.toHaveProperty('revision');
    expect(none.errorMessage).toContain('no Switchyard configuration yet');
  });

  it('answers the default with GENERAL for a slice the core could not decide', () => {
    expect(resolutionFor('broken', decision('LEGACY', 'ERROR'), true, 5)).toMatchObject({ value: true, reason: 'ERROR', errorCode: ErrorCode.GENERAL });
  });
});
