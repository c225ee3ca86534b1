import { Extensions, type Complexity } from '@nestjs/graphql';
import { type DocumentNode, getNamedType, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { type ComplexityEstimator, fieldExtensionsEstimator, getComplexity, simpleEstimator } from 'graphql-query-complexity';

/*
 * What a field costs, declared where the field is (NestJS's `complexity` option, which
 * graphql-query-complexity reads from the field's extensions). The unit is about one row or
 * object read or returned: a field costs 1 plus what it selects unless it says otherwise. Every
 * operation is held to SWITCHYARD_MAX_QUERY_COST (docs/query-limits.md lists the costs).
 *
 * Arguments are clamped to the range their DTO accepts: a negative `first` must not make a page
 * cost less than nothing (class-validator refuses it later, but the cost is added up first), and
 * an out-of-range one gets its BAD_USER_INPUT from the validation pipe, not a cost refusal.
 */

/**
 * What a database query of its own costs, for fields that run one per parent object (not batched
 * with their siblings): about 25 rows' worth. Measured on the embedded engine, 500 such queries in
 * one request took 200-550 ms, and a 500-row history page 30-80 ms.
 */
export const OWN_QUERY_COST = 25;

function clamp(value: unknown, min: number, max: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, Math.trunc(value))) : min;
}

/** A page: `first` times what one item selects, plus the call. */
export function perPage(maxFirst: number): Complexity {
  return ({ args, childComplexity }) => 1 + clamp(args.first, 1, maxFirst) * childComplexity;
}

/**
 * A per-minute series: `minutes` items (each `childComplexity`), plus `queryCost` for the
 * database query it runs by itself (not batched with its siblings).
 */
export function perMinute(maxMinutes: number, queryCost: number): Complexity {
  return ({ args, childComplexity }) => queryCost + clamp(args.minutes, 1, maxMinutes) * childComplexity;
}

/**
 * A per-minute aggregate: the database sums a row per minute (and app and path) over `minutes`,
 * and returns one item per group; `groups` is the number of groups assumed.
 */
export function perMinuteScan(maxMinutes: number, queryCost: number, groups: number): Complexity {
  return ({ args, childComplexity }) => queryCost + clamp(args.minutes, 1, maxMinutes) + groups * childComplexity;
}

/** Where MaxPerRequest keeps its number in the field's extensions. */
const MAX_PER_REQUEST = 'maxPerRequest';

/**
 * At most `n` of this field per operation, however it is written (aliases, fragments): for fields
 * whose work does not shrink with what they select (verifyHistory reads the whole chain). Counts
 * the field's occurrences in the document, not how often a list above it repeats it: use it on
 * root fields, and let the cost bound fields under lists.
 */
export const MaxPerRequest = (n: number) => Extensions({ [MAX_PER_REQUEST]: n });

export type CostVerdict =
  | { readonly ok: true; readonly cost: number }
  | { readonly ok: false; readonly reason: 'FIELD_LIMIT_EXCEEDED'; readonly field: string; readonly limit: number }
  | { readonly ok: false; readonly reason: 'QUERY_TOO_COMPLEX'; readonly cost: number | null };

/**
 * The cost of one operation with its variables, and whether a field was asked for more often than
 * its MaxPerRequest. The document must have passed queryLimitRules: graphql-query-complexity
 * expands a fragment each time it is spread, which is safe only because the expansion bound there
 * has already shown the expanded document to be at most `maxCost` selections (so its own node cap,
 * maxCost + 1, is never the one that stops it).
 *
 * Variables must be valid for the operation (coerce them first): with invalid ones nothing
 * executes anyway. Anything else that stops the count refuses the operation, never lets it through.
 */
export function measureCost(input: {
  readonly schema: GraphQLSchema;
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly variables: Readonly<Record<string, unknown>>;
  readonly maxCost: number;
}): CostVerdict {
  const counts = new Map<string, number>();
  const overused: { field: string; limit: number }[] = [];
  // Called once per field occurrence, as expanded (skipped fields are not); returns nothing, so
  // the next estimator gives the cost.
  const countLimited: ComplexityEstimator = ({ field, type }) => {
    const limit = field.extensions?.[MAX_PER_REQUEST];
    if (typeof limit !== 'number') return;
    const name = `${getNamedType(type).name}.${field.name}`;
    const count = (counts.get(name) ?? 0) + 1;
    counts.set(name, count);
    if (count > limit) overused.push({ field: name, limit });
  };
  let cost: number;
  try {
    cost = getComplexity({
      schema: input.schema,
      query: input.document,
      operationName: input.operation.name?.value,
      variables: { ...input.variables },
      estimators: [countLimited, fieldExtensionsEstimator(), simpleEstimator({ defaultComplexity: 1 })],
      maxQueryNodes: input.maxCost + 1,
    });
  } catch {
    return { ok: false, reason: 'QUERY_TOO_COMPLEX', cost: null };
  }
  if (overused[0] !== undefined) return { ok: false, reason: 'FIELD_LIMIT_EXCEEDED', ...overused[0] };
  if (!(cost <= input.maxCost)) return { ok: false, reason: 'QUERY_TOO_COMPLEX', cost };
  return { ok: true, cost };
}
