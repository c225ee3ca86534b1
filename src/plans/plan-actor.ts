import type { Actor } from '../access/auth.decorators.js';
import type { PlanRecord } from './plan-record.js';

/**
 * The actors the runner acts as, by identity: a plan's own exposure changes pass the plan guard,
 * and nothing a client sends can forge one (a token named "plan:..." is a different object; a
 * request id comes from the client). Weak: an actor lives as long as the change that uses it.
 */
const PLAN_OF_ACTOR = new WeakMap<Actor, string>();

/** The actor history records for what plan `plan` does by itself: `plan:<slice key>`. */
export function planActor(plan: Pick<PlanRecord, 'id' | 'sliceKey'>): Actor {
  const actor: Actor = Object.freeze({ name: `plan:${plan.sliceKey}`, requestId: null });
  PLAN_OF_ACTOR.set(actor, plan.id);
  return actor;
}

/** The id of the plan `actor` acts for; undefined for a person (any token). */
export function planIdOf(actor: Actor): string | undefined {
  return PLAN_OF_ACTOR.get(actor);
}
