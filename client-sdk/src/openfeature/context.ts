/**
 * OpenFeature evaluation context → Switchyard context.
 *
 * Switchyard decides on a flat map of strings (segments compare strings, the stickiness value is
 * hashed as a string), whereas an OpenFeature context holds any JSON-like value. The conversion is
 * fixed here, once, so that a subject gets the same answer through OpenFeature as through
 * `client.decide` with the same attributes written as strings:
 *
 * - strings as they are (the empty string too: the core treats it as missing);
 * - numbers and booleans through `String()` (`42` → `"42"`, `1.5` → `"1.5"`, `true` → `"true"`),
 *   which is what NUM_* constraints parse and what an id written as a number should hash as;
 * - dates as RFC 3339 instants in UTC (`toISOString()`), what DATE_* constraints compare; an
 *   invalid date is dropped;
 * - `null`, `undefined`, objects and arrays are dropped (no constraint could use them);
 * - `targetingKey` is kept as an attribute of that name, and also fills in the slice's stickiness
 *   attribute when that one is missing (absent, dropped above, or empty), so that a host passing
 *   only `{ targetingKey: user.id }` is bucketed by its user id whatever the slice calls it.
 */
import type { EvaluationContext as OpenFeatureContext, EvaluationContextValue } from '@openfeature/server-sdk';
import type { EvaluationContext } from '../index.js';

/** One OpenFeature context value as a Switchyard attribute value, or undefined when it is dropped. */
export function toAttributeValue(value: EvaluationContextValue | undefined): string | undefined {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
    case 'boolean':
      return String(value);
    case 'object':
      if (value instanceof Date) return Number.isNaN(value.getTime()) ? undefined : value.toISOString();
      return undefined; // null, objects, arrays
    default:
      return undefined; // undefined, and what the type does not allow (functions, symbols, bigints)
  }
}

/**
 * The Switchyard context for an OpenFeature one (see the module comment for the rules).
 *
 * @param context - the merged OpenFeature context the SDK passes to the provider.
 * @param stickinessAttribute - the slice's stickiness attribute, or undefined when the slice is
 *   unknown (then `targetingKey` fills in nothing).
 */
export function toSwitchyardContext(context: OpenFeatureContext | null | undefined, stickinessAttribute: string | undefined): EvaluationContext {
  // No prototype: an attribute named "__proto__" or "constructor" is a plain entry, and an absent
  // one does not find Object.prototype's.
  const attributes = Object.create(null) as Record<string, string>;
  if (typeof context !== 'object' || context === null) return attributes;
  for (const name of Object.keys(context)) {
    const value = toAttributeValue(context[name]);
    if (value !== undefined) attributes[name] = value;
  }
  if (stickinessAttribute !== undefined && !attributes[stickinessAttribute]) {
    const targetingKey = attributes.targetingKey;
    if (targetingKey) attributes[stickinessAttribute] = targetingKey;
  }
  return attributes;
}
