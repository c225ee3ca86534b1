import { allNodes, graphql, idempotencyKey, type Page } from './api.js';

export const OPERATORS = [
  'IN',
  'NOT_IN',
  'STR_CONTAINS',
  'STR_STARTS_WITH',
  'STR_ENDS_WITH',
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
export type Operator = (typeof OPERATORS)[number];

/** Operators that take exactly one value (the others take a list). */
export function singleValued(operator: Operator): boolean {
  return /^(NUM|DATE|SEMVER)_/.test(operator);
}

export interface Constraint {
  attribute: string;
  operator: Operator;
  values: string[];
  inverted: boolean;
  caseInsensitive: boolean;
}

export interface Segment {
  readonly key: string;
  readonly description: string;
  readonly version: number;
  readonly usedBy: readonly string[];
  readonly updatedAt: string;
  readonly constraints: readonly Constraint[];
}

const SEGMENT_FIELDS = 'key description version usedBy updatedAt constraints { attribute operator values inverted caseInsensitive }';

export function listSegments(): Promise<Segment[]> {
  return allNodes(
    async (after) =>
      (
        await graphql<{ segments: Page<Segment> }>(
          `query ConsoleSegments($after: String) { segments(first: 500, after: $after) { nodes { ${SEGMENT_FIELDS} } pageInfo { hasNextPage endCursor } } }`,
          { after },
        )
      ).segments,
  );
}

export async function loadSegment(key: string): Promise<Segment> {
  return (await graphql<{ segment: Segment }>(`query ConsoleSegment($key: String!) { segment(key: $key) { ${SEGMENT_FIELDS} } }`, { key })).segment;
}

export async function createSegment(input: { key: string; description: string; constraints: Constraint[]; reason: string }): Promise<void> {
  await graphql(
    `
      mutation ConsoleCreateSegment($key: String!, $description: String!, $constraints: [ConstraintInput!]!, $reason: String, $idem: String) {
        createSegment(key: $key, description: $description, constraints: $constraints, reason: $reason, idempotencyKey: $idem) {
          key
        }
      }
    `,
    { ...input, idem: idempotencyKey() },
  );
}

export async function updateSegment(input: { key: string; description: string; constraints: Constraint[]; reason: string; expectedVersion: number }): Promise<void> {
  await graphql(
    `
      mutation ConsoleUpdateSegment($key: String!, $description: String, $constraints: [ConstraintInput!], $reason: String, $v: Int, $idem: String) {
        updateSegment(key: $key, description: $description, constraints: $constraints, reason: $reason, expectedVersion: $v, idempotencyKey: $idem) {
          key
        }
      }
    `,
    { key: input.key, description: input.description, constraints: input.constraints, reason: input.reason, v: input.expectedVersion, idem: idempotencyKey() },
  );
}
