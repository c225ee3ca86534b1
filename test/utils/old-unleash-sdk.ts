import { compileConstraint, type Constraint, type EvaluationContext, murmur3, type Operator } from '@switchyard/client-sdk/core';
import type { ClientLevel } from '../../src/compat/unleash/unleash-constraints.js';
import type { UnleashContext } from '../../src/compat/unleash/unleash-context.js';
import type { UnleashConstraint, UnleashFeature } from '../../src/compat/unleash/unleash-protocol.js';

/**
 * An Unleash SDK of a given client-specification level, at its worst: every deviation that SDKs
 * declaring that level were seen to have (or that the specification's tests at that level do not
 * rule out), so that "never NEW where Switchyard says LEGACY" is checked against the least
 * forgiving reader of what we serve. Written from the client specification and the bugs its
 * later tests were added for (src/compat/unleash/unleash-constraints.ts has the table):
 */
export interface OldSdkBehaviour {
  /**
   * false (below 4.1.0, and no header): knows IN and NOT_IN only, ignores `inverted` and
   * `caseInsensitive`, and throws on any other operator (as the SDK seen in issue 11 did, on
   * every call).
   */
  readonly operators: boolean;
  /** false (below 4.0.0): `flexibleRollout` knows userId and sessionId only; anything else falls back to random (here: throws). */
  readonly customStickiness: boolean;
  /** false (below 4.2.1): NOT_IN is false for a subject without the attribute (unleash-client before 3.15.0). */
  readonly notInOnMissing: boolean;
  /** false (below 5.1.2): `inverted` is ignored on IN / NOT_IN (the .NET SDK before 4.1.3). */
  readonly invertedLists: boolean;
  /** false (below 5.1.5): a case-insensitive STR_STARTS_WITH matches nothing (the Java SDK before 9.2.1). */
  readonly caseInsensitiveStartsWith: boolean;
  /** false (below 6.1.0): SEMVER_GTE / SEMVER_LTE are unknown (here: throws). */
  readonly semverGteLte: boolean;
}

/** The worst behaviour an SDK declaring a version of `level` may have. */
export function worstBehaviourOf(level: ClientLevel): OldSdkBehaviour {
  const since = level.since ?? '0.0.0';
  const atLeast = (version: string) => compareVersions(since, version) >= 0;
  return {
    operators: level.operators,
    customStickiness: level.customStickiness,
    notInOnMissing: level.notInOnMissing,
    invertedLists: atLeast('5.1.2'),
    caseInsensitiveStartsWith: level.caseInsensitiveStartsWith,
    semverGteLte: atLeast('6.1.0'),
  };
}

function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if (pa[i]! !== pb[i]!) return pa[i]! - pb[i]!;
  return 0;
}

const TOP_LEVEL = new Set(['userId', 'sessionId', 'remoteAddress', 'environment', 'appName', 'currentTime']);

/** Unleash's context lookup: a known field at top level, anything else in properties. */
function contextValue(context: UnleashContext, name: string): string | undefined {
  const value = TOP_LEVEL.has(name) ? (context as Record<string, unknown>)[name] : context.properties[name];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

const flattened = new WeakMap<UnleashContext, EvaluationContext>();

/** The Unleash context back as a flat one, for the operators whose semantics we share (constraint-match.ts). */
function flat(context: UnleashContext): EvaluationContext {
  const known = flattened.get(context);
  if (known !== undefined) return known;
  const out: Record<string, string> = { ...context.properties };
  for (const name of TOP_LEVEL) {
    const value = contextValue(context, name);
    if (value !== undefined) out[name] = value;
  }
  flattened.set(context, out);
  return out;
}

export class UnsupportedByOldSdk extends Error {}

/**
 * `isEnabled` over features as an old SDK holds them (what GET /api/client/features served it).
 * Throws UnsupportedByOldSdk where that SDK would throw or answer at random.
 */
export class OldUnleashSdk {
  private readonly byName: Map<string, UnleashFeature>;
  /** Operators whose semantics we share, compiled once per served constraint. */
  private readonly compiled = new WeakMap<UnleashConstraint, ReturnType<typeof compileConstraint>>();

  constructor(
    features: readonly UnleashFeature[],
    private readonly behaviour: OldSdkBehaviour,
  ) {
    this.byName = new Map(features.map((f) => [f.name, f]));
  }

  isEnabled(name: string, context: UnleashContext): boolean {
    const feature = this.byName.get(name);
    if (feature === undefined || !feature.enabled) return false;
    if (feature.strategies.length === 0) return true; // Unleash: no strategies means on for everyone
    return feature.strategies.some((strategy) => {
      if (!strategy.constraints.every((c) => this.holds(c, context))) return false;
      if (strategy.name === 'default') return true;
      if (strategy.name !== 'flexibleRollout') throw new UnsupportedByOldSdk(`strategy ${strategy.name as string}`);
      return this.rollout(strategy.parameters, context);
    });
  }

  private rollout(parameters: Readonly<Record<string, string>>, context: UnleashContext): boolean {
    const stickiness = parameters.stickiness ?? 'default';
    const builtIn = stickiness === 'userId' || stickiness === 'sessionId';
    if (!builtIn && (!this.behaviour.customStickiness || stickiness === 'default' || stickiness === 'random')) {
      throw new UnsupportedByOldSdk(`stickiness ${stickiness} (random for this SDK)`);
    }
    const id = contextValue(context, stickiness);
    if (id === undefined) return false;
    const bucket = (murmur3(`${parameters.groupId}:${id}`) % 100) + 1;
    return bucket <= Number(parameters.rollout);
  }

  private holds(c: UnleashConstraint, context: UnleashContext): boolean {
    const { behaviour } = this;
    if (c.operator === 'IN' || c.operator === 'NOT_IN') {
      // No version defines caseInsensitive on IN / NOT_IN: ignored.
      const value = contextValue(context, c.contextName);
      const values = c.values.filter((v) => v.length > 0);
      let result: boolean;
      if (value === undefined) result = c.operator === 'NOT_IN' && behaviour.notInOnMissing;
      else result = values.includes(value) === (c.operator === 'IN');
      return c.inverted && behaviour.operators && behaviour.invertedLists ? !result : result;
    }
    if (!behaviour.operators) throw new UnsupportedByOldSdk(`operator ${c.operator}`);
    if ((c.operator === 'SEMVER_GTE' || c.operator === 'SEMVER_LTE') && !behaviour.semverGteLte) throw new UnsupportedByOldSdk(`operator ${c.operator}`);
    let result: boolean;
    if (c.operator === 'STR_STARTS_WITH' && c.caseInsensitive && !behaviour.caseInsensitiveStartsWith) {
      result = false;
    } else {
      let predicate = this.compiled.get(c);
      if (predicate === undefined) {
        const single = c.operator.startsWith('NUM_') || c.operator.startsWith('DATE_') || c.operator.startsWith('SEMVER_');
        const constraint: Constraint = {
          attribute: c.contextName,
          operator: c.operator as Operator,
          values: single ? [c.value ?? ''] : [...c.values],
          caseInsensitive: c.caseInsensitive,
          inverted: false,
        };
        predicate = compileConstraint(constraint);
        this.compiled.set(c, predicate);
      }
      result = predicate(flat(context), undefined);
    }
    return c.inverted ? !result : result;
  }
}
