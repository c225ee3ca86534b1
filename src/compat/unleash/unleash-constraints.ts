/**
 * What an Unleash SDK evaluates exactly as Switchyard does, by the version of the Unleash client
 * specification it declares in its `Unleash-Client-Spec` header, and how our constraints are
 * written as Unleash constraints. Pure, no I/O.
 *
 * The Unleash server reads the same header to decide whether a client can take segments
 * (unleash: src/lib/services/client-spec-service.ts, `segments: 4.2.0`; no header means "no",
 * a malformed one is refused with 400). We serve a malformed header like none: an SDK that gets a
 * 400 stops fetching for good, and the oldest form is safe for every SDK. The header itself came
 * with segments, in mid-2022 (unleash-client-node#335 "pass spec header so global segments can be
 * toggled", unleash-client-go#116, unleash-client-python#212, unleash-client-ruby#114,
 * unleash-client-dotnet#104, unleash-client-java#145): an SDK that sends none may implement the
 * 4.1.0 operators (unleash-client 3.12.0 to 3.14.0 did), but nothing tells us so, and it gets the oldest form.
 *
 * Each capability is dated by the client-specification release (github.com/Unleash/client-specification,
 * `specifications/`) whose tests first pin it down; an SDK declaring version V passed V's tests:
 *
 * | since | capability                                                            | where                                     |
 * | ----- | --------------------------------------------------------------------- | ----------------------------------------- |
 * | 3.3.0 | constraints with IN / NOT_IN; `flexibleRollout` on userId / sessionId  | 09-strategy-constraints, 10-flexible-rollout (2019) |
 * | 4.0.0 | custom stickiness (any context field)                                 | 12-custom-stickiness (2021)               |
 * | 4.1.0 | STR_*, NUM_*, DATE_*, SEMVER_EQ / GT / LT; `inverted`; `caseInsensitive` on STR_* | 13-constraint-operators, 14-constraint-semver-operators (Feb 2022) |
 * | 4.2.0 | segments (what the Unleash server uses the header for)                | 15-global-constraints                     |
 * | 4.2.1 | NOT_IN holds when the attribute is missing                            | 11-strategy-constraints-edge-cases, client-specification#37 (the Node SDK answered false before 3.15.0) |
 * | 5.1.2 | `inverted` on IN / NOT_IN                                             | 13-constraint-operators F9/F10, client-specification#78 (the .NET SDK ignored it before 4.1.3) |
 * | 5.1.5 | `caseInsensitive` on STR_STARTS_WITH                                  | 13-constraint-operators, client-specification#88 (the Java SDK matched nothing before 9.2.1) |
 * | 6.1.0 | SEMVER_GTE / SEMVER_LTE (and IN_CIDR)                                 | 14-constraint-semver-operators, client-specification#115 |
 *
 * `caseInsensitive` on IN / NOT_IN is in no version: it was added (client-specification#48, Feb
 * 2023) and withdrawn (#53) before any release relied on it.
 *
 * What this module makes of them: segments are never served (constraints are inlined, which
 * every version evaluates), `inverted` is never put on IN / NOT_IN (NOT (a IN v) is written
 * `a NOT_IN v`, the same for every subject, a missing attribute included), SEMVER_GTE / LTE are
 * written as GT or EQ / LT or EQ, and a case-insensitive IN / NOT_IN as a case-sensitive one over
 * every case variant of its values. What is left is a set of levels (CLIENT_LEVELS): each says
 * which of our constraints an SDK at that level evaluates exactly (`support`); the mapper leaves
 * out the strategies that need one it cannot evaluate, or keeps them where the SDK can only answer
 * "no" more often than we do (the conservative form: fewer subjects on NEW, never more).
 *
 * If you change this table, the forms served to existing SDKs change: README.md ("Which SDK
 * versions agree exactly") and docs/unleash.md list what each official SDK declares.
 */

import { compareSemver, type Constraint, CURRENT_TIME_ATTRIBUTE, isSingleValueOperator, parseSemver, type SemVer } from '@switchyard/client-sdk/core';
import type { Literal } from './dnf.js';
import type { UnleashConstraint } from './unleash-protocol.js';

/** What SDKs at one level of the client specification evaluate as we do. */
export interface ClientLevel {
  /** The lowest client-specification version of the level; null: no (valid) header, or one below the next level. */
  readonly since: string | null;
  /** 4.0.0: `flexibleRollout` on any context field, not only userId / sessionId. */
  readonly customStickiness: boolean;
  /** 4.1.0: STR_*, NUM_*, DATE_*, SEMVER_EQ / GT / LT, `inverted`, `caseInsensitive` on STR_*. */
  readonly operators: boolean;
  /** 4.2.1: NOT_IN holds for a subject without the attribute. */
  readonly notInOnMissing: boolean;
  /** 5.1.5: `caseInsensitive` on STR_STARTS_WITH. */
  readonly caseInsensitiveStartsWith: boolean;
}

/** Every level, oldest first. The index of a level is its position here. */
export const CLIENT_LEVELS: readonly ClientLevel[] = [
  { since: null, customStickiness: false, operators: false, notInOnMissing: false, caseInsensitiveStartsWith: false },
  { since: '4.0.0', customStickiness: true, operators: false, notInOnMissing: false, caseInsensitiveStartsWith: false },
  { since: '4.1.0', customStickiness: true, operators: true, notInOnMissing: false, caseInsensitiveStartsWith: false },
  { since: '4.2.1', customStickiness: true, operators: true, notInOnMissing: true, caseInsensitiveStartsWith: false },
  { since: '5.1.5', customStickiness: true, operators: true, notInOnMissing: true, caseInsensitiveStartsWith: true },
];

/** The level of SDKs that declare no client specification (the oldest behaviour). */
export const OLDEST_LEVEL = CLIENT_LEVELS[0]!;
/** The level of SDKs that declare 5.1.5 or later: everything we serve is evaluated exactly. */
export const NEWEST_LEVEL = CLIENT_LEVELS[CLIENT_LEVELS.length - 1]!;

const THRESHOLDS: readonly (readonly [SemVer, ClientLevel])[] = CLIENT_LEVELS.filter((l) => l.since !== null)
  .map((l) => [parseSemver(l.since!)!, l] as const)
  .reverse();

/** The longest header value taken as a version (the longest real one is about 10 characters). */
const MAX_SPEC_LENGTH = 64;

/**
 * The version an `Unleash-Client-Spec` header declares, or null when there is none or it is not
 * strict SemVer 2.0 (as the Unleash server parses it: `5.2.0`, not `v5.2.0` nor ` 5.2.0`).
 */
export function declaredSpec(header: string | readonly string[] | undefined): string | null {
  if (typeof header !== 'string' || header.length > MAX_SPEC_LENGTH) return null;
  return parseSemver(header) === null ? null : header;
}

/** The level of an SDK that declares `spec` (from `declaredSpec`); null: the oldest. */
export function levelOf(spec: string | null): ClientLevel {
  const version = spec === null ? null : parseSemver(spec);
  if (version === null) return OLDEST_LEVEL;
  for (const [since, level] of THRESHOLDS) if (compareSemver(version, since) >= 0) return level;
  return OLDEST_LEVEL;
}

/** Header values whose level is remembered (SDK fleets send a handful); beyond it, parsed each time. */
const MAX_REMEMBERED_HEADERS = 100;
const headerLevels = new Map<string, ClientLevel>();

/** The level of an SDK sending this `Unleash-Client-Spec` header: `levelOf(declaredSpec(header))`, remembered per value. */
export function levelOfHeader(header: string | readonly string[] | undefined): ClientLevel {
  if (typeof header !== 'string') return OLDEST_LEVEL;
  let level = headerLevels.get(header);
  if (level === undefined) {
    level = levelOf(declaredSpec(header));
    if (headerLevels.size < MAX_REMEMBERED_HEADERS) headerLevels.set(header, level);
  }
  return level;
}

/** Index of `level` in CLIENT_LEVELS. */
export function levelIndex(level: ClientLevel): number {
  return CLIENT_LEVELS.indexOf(level);
}

/** A short name of the level, for ETags and logs: `none` or the version it starts at. */
export function levelTag(level: ClientLevel): string {
  return level.since ?? 'none';
}

/**
 * Why a served toggle is the conservative form (some subjects LEGACY whom we send to NEW, never the
 * reverse) rather than exact. The first five apply to every SDK, the rest to SDKs declaring an
 * older client specification:
 * - FRACTIONAL_PERCENT: a share such as 0.25 % rounded down to a whole percent;
 * - DATE_ATTRIBUTE: strategies needing a DATE_* constraint on an attribute other than
 *   `currentTime` are left out (the Node SDK reads `currentTime` whatever the attribute, the Go SDK
 *   takes "now" when the attribute is missing: no reading is common to the SDKs);
 * - CASE_INSENSITIVE_LIST: a case-insensitive IN / NOT_IN too large to expand (see `atomsOf`):
 *   no version defines the flag there, so SDKs may match case-sensitively (fewer subjects);
 *   strategies needing it negated are left out;
 * - RESERVED_ATTRIBUTE: strategies needing a constraint on `properties` are left out;
 * - RESERVED_STICKINESS: rollout strategies of a slice whose stickiness attribute is `default`,
 *   `random` or `properties` are left out (its include segments and 100 % rules still apply);
 * - CUSTOM_STICKINESS (below 4.0.0): rollout strategies of a slice whose stickiness attribute is
 *   not userId or sessionId are left out;
 * - OPERATORS (below 4.1.0): strategies needing an operator other than IN / NOT_IN are left out;
 * - NOT_IN_MISSING_ATTRIBUTE (below 4.2.1): NOT_IN may fail for subjects without the attribute;
 * - CASE_INSENSITIVE_STARTS_WITH (below 5.1.5): a case-insensitive STR_STARTS_WITH may match
 *   nobody; strategies needing it negated are left out.
 */
export type Approximation =
  | 'FRACTIONAL_PERCENT'
  | 'DATE_ATTRIBUTE'
  | 'CASE_INSENSITIVE_LIST'
  | 'RESERVED_ATTRIBUTE'
  | 'RESERVED_STICKINESS'
  | 'CUSTOM_STICKINESS'
  | 'OPERATORS'
  | 'NOT_IN_MISSING_ATTRIBUTE'
  | 'CASE_INSENSITIVE_STARTS_WITH';

/** Approximations that depend on the SDK's declared client specification (absent at NEWEST_LEVEL). */
export const LEVEL_APPROXIMATIONS: ReadonlySet<Approximation> = new Set(['CUSTOM_STICKINESS', 'OPERATORS', 'NOT_IN_MISSING_ATTRIBUTE', 'CASE_INSENSITIVE_STARTS_WITH']);

const APPROXIMATION_TEXT: Record<Approximation, string> = {
  FRACTIONAL_PERCENT: 'a fractional percentage is rounded down to a whole one',
  DATE_ATTRIBUTE: 'a DATE_* constraint reads an attribute other than currentTime',
  CASE_INSENSITIVE_LIST: 'a case-insensitive IN / NOT_IN list is too large to expand',
  RESERVED_ATTRIBUTE: 'a constraint reads "properties", the Unleash context\'s property bag',
  RESERVED_STICKINESS: 'the stickiness attribute is an Unleash stickiness keyword (default, random, properties)',
  CUSTOM_STICKINESS: 'percentages on an attribute other than userId or sessionId need client specification 4.0.0 (custom stickiness)',
  OPERATORS: 'constraints other than IN / NOT_IN need client specification 4.1.0',
  NOT_IN_MISSING_ATTRIBUTE: 'NOT_IN may fail for subjects without the attribute below client specification 4.2.1',
  CASE_INSENSITIVE_STARTS_WITH: 'a case-insensitive STR_STARTS_WITH needs client specification 5.1.5',
};

export function describeApproximations(approximations: readonly Approximation[]): string {
  return approximations.map((a) => APPROXIMATION_TEXT[a]).join('; ');
}

/** Who a level is, in words: for descriptions and the followers' reasons. */
export function describeLevel(level: ClientLevel): string {
  const next = CLIENT_LEVELS[levelIndex(level) + 1];
  if (level.since === null) return `SDKs declaring no client specification${next ? ` or one below ${next.since}` : ''}`;
  return next === undefined ? `SDKs declaring client specification ${level.since} or later` : `SDKs declaring client specification ${level.since} up to ${next.since}`;
}

/** Most values a case-insensitive IN / NOT_IN may expand to (see `caseVariants`). */
export const MAX_CASE_VARIANTS = 1000;

/**
 * Every string whose `toLowerCase()` equals that of one of `values`, or null when that set is not
 * small and finite: values must be ASCII, and the variants at most MAX_CASE_VARIANTS. Exact: the
 * only code point outside ASCII that lower-cases into ASCII is U+212A KELVIN SIGN (to "k"),
 * checked over all of Unicode; any other yields a non-ASCII lower case, which matches no ASCII value.
 */
export function caseVariants(values: readonly string[]): string[] | null {
  const out = new Set<string>();
  for (const value of values) {
    // eslint-disable-next-line no-control-regex -- "only ASCII", controls included
    if (!/^[\x00-\x7f]*$/.test(value)) return null;
    let forms = [''];
    for (const ch of value.toLowerCase()) {
      const options = ch === 'k' ? ['k', 'K', '\u212a'] : ch >= 'a' && ch <= 'z' ? [ch, ch.toUpperCase()] : [ch];
      forms = forms.flatMap((f) => options.map((o) => f + o));
      if (out.size + forms.length > MAX_CASE_VARIANTS) return null;
    }
    for (const f of forms) out.add(f);
  }
  return [...out];
}

/**
 * Constraints (none inverted) whose OR is exactly `c`'s operator result before `inverted`,
 * chosen so that SDKs of every level read them alike:
 * - SEMVER_GTE / SEMVER_LTE are SEMVER_GT or SEMVER_EQ / SEMVER_LT or SEMVER_EQ (client
 *   specification 6.1.0 added GTE / LTE; below it, and in the Go SDK, an unknown operator is false
 *   even inverted). Invalid or missing versions fail all three alike.
 * - A case-insensitive IN / NOT_IN becomes a case-sensitive one over every case variant of its
 *   values: no version of the client specification defines the flag there (the Node SDK 6.x,
 *   the Go SDK and older Yggdrasil ignore it), and where negated that would put excluded subjects
 *   on NEW. Lists too large to expand keep the flag (CASE_INSENSITIVE_LIST in `support`).
 * - Anything else maps one to one.
 */
export function atomsOf(c: Constraint): Constraint[] {
  const plain = { ...c, inverted: false };
  if (c.operator === 'SEMVER_GTE' || c.operator === 'SEMVER_LTE') {
    return [
      { ...plain, operator: c.operator === 'SEMVER_GTE' ? 'SEMVER_GT' : 'SEMVER_LT' },
      { ...plain, operator: 'SEMVER_EQ' },
    ];
  }
  if ((c.operator === 'IN' || c.operator === 'NOT_IN') && c.caseInsensitive === true) {
    const variants = caseVariants(c.values);
    if (variants !== null) return [{ ...plain, values: variants, caseInsensitive: false }];
  }
  return [plain];
}

/**
 * `atom` (or its negation) as a literal. NOT_IN is the negation of IN over the same values for
 * every subject (a missing attribute fails IN and passes NOT_IN), so it is kept as a negated IN:
 * the expansion then sees `a IN v` and `a NOT_IN v` as contradictory, and `toUnleashConstraint`
 * writes a negated IN as NOT_IN, never as an inverted IN.
 */
export function literalOf(atom: Constraint, negated: boolean): Literal<Constraint> {
  const canonical: Constraint = atom.operator === 'NOT_IN' ? { ...atom, operator: 'IN' } : atom;
  const isNegated = atom.operator === 'NOT_IN' ? !negated : negated;
  const values = [...new Set(canonical.values)];
  // List operators are "any of the values": order and repetition do not change the meaning.
  if (!isSingleValueOperator(canonical.operator)) values.sort();
  const base = JSON.stringify([canonical.attribute, canonical.operator, values, canonical.caseInsensitive === true]);
  return { base, negated: isNegated, atom: canonical };
}

/** What SDKs at a level make of one literal: exact, true for fewer subjects than ours (`weaker`), or not servable. */
export type Verdict = { readonly kind: 'exact' } | { readonly kind: 'weaker'; readonly why: Approximation } | { readonly kind: 'unsupported'; readonly why: Approximation };

const EXACT: Verdict = { kind: 'exact' };
const weaker = (why: Approximation): Verdict => ({ kind: 'weaker', why });
const unsupported = (why: Approximation): Verdict => ({ kind: 'unsupported', why });

/** The attribute name that is the Unleash context's property bag, not a value (see unleash-context.ts). */
export const RESERVED_ATTRIBUTE = 'properties';

/**
 * How SDKs at `level` evaluate `literal` (from `literalOf`) against ours. A `weaker` literal is
 * kept (a strategy needing it admits fewer subjects, never more); a strategy needing an
 * `unsupported` one is left out.
 */
export function support(literal: Literal<Constraint>, level: ClientLevel): Verdict {
  const { atom, negated } = literal;
  if (atom.attribute === RESERVED_ATTRIBUTE) return unsupported('RESERVED_ATTRIBUTE');
  if (atom.operator === 'IN') {
    // Too large to expand (atomsOf): an SDK ignoring the flag matches fewer with IN, more with NOT_IN.
    if (atom.caseInsensitive === true) return negated ? unsupported('CASE_INSENSITIVE_LIST') : weaker('CASE_INSENSITIVE_LIST');
    if (negated && !level.notInOnMissing) return weaker('NOT_IN_MISSING_ATTRIBUTE');
    return EXACT;
  }
  if (!level.operators) return unsupported('OPERATORS');
  if (atom.operator.startsWith('DATE_') && atom.attribute !== CURRENT_TIME_ATTRIBUTE) return unsupported('DATE_ATTRIBUTE');
  // Before 5.1.5 an SDK may answer false (Java < 9.2.1): inverted, that is true for everyone.
  if (atom.operator === 'STR_STARTS_WITH' && atom.caseInsensitive === true && !level.caseInsensitiveStartsWith) {
    return negated ? unsupported('CASE_INSENSITIVE_STARTS_WITH') : weaker('CASE_INSENSITIVE_STARTS_WITH');
  }
  return EXACT;
}

/**
 * Names an Unleash SDK does not resolve as a context value when given as a stickiness: `default`
 * and `random` are keywords (flexible-rollout-strategy.js `resolveStickiness`; Yggdrasil
 * strategy_upgrade.rs `upgrade_stickiness`), `properties` is the property bag.
 */
const RESERVED_STICKINESS: ReadonlySet<string> = new Set(['default', 'random', RESERVED_ATTRIBUTE]);
/** The stickiness values `flexibleRollout` took before custom stickiness (client specification 10, 3.3.0). */
const BUILT_IN_STICKINESS: ReadonlySet<string> = new Set(['userId', 'sessionId']);

/** Whether SDKs at `level` bucket by `attribute` as we do in a rollout strategy (null) or why not. */
export function stickinessSupport(attribute: string, level: ClientLevel): Approximation | null {
  if (RESERVED_STICKINESS.has(attribute)) return 'RESERVED_STICKINESS';
  if (!level.customStickiness && !BUILT_IN_STICKINESS.has(attribute)) return 'CUSTOM_STICKINESS';
  return null;
}

/**
 * One literal as an Unleash constraint for SDKs at `level`. A negated IN is NOT_IN; `inverted`
 * only ever appears on the other operators (which need 4.1.0, where it was defined);
 * `caseInsensitive` only on STR_* and, for SDKs of 4.1.0 or later, on IN lists too large to
 * expand (where an SDK that honours it matches as we do, and one that ignores it fewer).
 */
export function toUnleashConstraint(literal: Literal<Constraint>, level: ClientLevel): UnleashConstraint {
  const c = literal.atom;
  if (c.operator === 'IN') {
    const operator = literal.negated ? 'NOT_IN' : 'IN';
    return { contextName: c.attribute, operator, values: [...c.values], inverted: false, caseInsensitive: c.caseInsensitive === true && level.operators };
  }
  // NUM_*, DATE_* and SEMVER_* read the singular `value` (unleash-client strategy.js); `values`
  // is kept for readers that look there.
  const value = isSingleValueOperator(c.operator) ? { value: c.values[0] ?? '' } : {};
  return { contextName: c.attribute, operator: c.operator, values: [...c.values], ...value, inverted: literal.negated, caseInsensitive: c.caseInsensitive === true };
}
