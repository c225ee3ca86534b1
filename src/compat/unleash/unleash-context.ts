import type { EvaluationContext } from '@switchyard/client-sdk/core';

/**
 * The context fields every Unleash SDK has at top level (Node `Context`, Go `context.Context`,
 * Java `UnleashContext`, Yggdrasil `Context`); anything else goes under `properties`. The SDKs
 * resolve a constraint's `contextName`, and a custom stickiness, from either place.
 */
export const UNLEASH_TOP_LEVEL_FIELDS = ['userId', 'sessionId', 'remoteAddress', 'environment', 'appName', 'currentTime'] as const;
export type UnleashTopLevelField = (typeof UNLEASH_TOP_LEVEL_FIELDS)[number];

/** An Unleash context carrying exactly the attributes of a Switchyard context. */
export type UnleashContext = { [F in UnleashTopLevelField]?: string } & { properties: Record<string, string> };

const TOP_LEVEL: ReadonlySet<string> = new Set(UNLEASH_TOP_LEVEL_FIELDS);

/**
 * Our flat context as an Unleash context: the six known names at top level, every other attribute
 * under `properties`. Values that our decision treats as missing (absent, not a string, empty) are
 * left out, so an SDK sees them as missing too (the Node SDK would read `""` as the number 0).
 * An attribute named `properties` cannot be expressed (it is the property bag itself) and is
 * dropped; slices that read it are served disabled (toggle-mapper.ts).
 *
 * What a Go or Java service does by hand: `UserId`/`userId`, `SessionId`, `RemoteAddress`,
 * `Environment`, `AppName` and `CurrentTime` in the context's own fields, everything else in its
 * properties map, with the same names and string values as in Switchyard's segments.
 */
export function toUnleashContext(context: EvaluationContext): UnleashContext {
  const out: UnleashContext = { properties: {} };
  for (const [name, value] of Object.entries(context)) {
    if (typeof value !== 'string' || value.length === 0 || name === 'properties') continue;
    if (TOP_LEVEL.has(name)) out[name as UnleashTopLevelField] = value;
    else out.properties[name] = value;
  }
  return out;
}
