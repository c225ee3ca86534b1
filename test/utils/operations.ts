import type { GraphqlClient } from './graphql-client.js';

// The CLI reads slices with the same selection: one definition, shared.
import { SLICE_FIELDS, type SliceView } from '../../src/cli/commands/slice-view.js';

/** Field selections and small operation factories shared by the e2e tests. */
export { SLICE_FIELDS, type SliceView };

export interface HistoryView {
  sequence: string;
  sliceKey: string | null;
  segmentKey: string | null;
  action: string;
  before: unknown;
  after: unknown;
  actor: string;
  reason: string | null;
  idempotencyKey: string | null;
  requestId: string | null;
  recordedAt: string;
  prevHash: string;
  hash: string;
}

let counter = 0;
/** A slice or segment key no other test uses. */
export function uniqueKey(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}-${(++counter).toString(36)}`;
}

export async function createSlice(client: GraphqlClient, vars: Record<string, unknown>): Promise<SliceView> {
  const data = await client.ok<{ createSlice: SliceView }>(
    `mutation($key: String!, $percent: Float! = 0, $tags: [String!]! = [], $stickinessAttribute: String! = "userId",
              $targeting: TargetingInput, $description: String! = "", $owner: String! = "") {
      createSlice(key: $key, percent: $percent, tags: $tags, stickinessAttribute: $stickinessAttribute,
                  targeting: $targeting, description: $description, owner: $owner) { ${SLICE_FIELDS} } }`,
    vars,
  );
  return data.createSlice;
}

export async function getSlice(client: GraphqlClient, key: string): Promise<SliceView> {
  return (await client.ok<{ slice: SliceView }>(`query($key: String!) { slice(key: $key) { ${SLICE_FIELDS} } }`, { key })).slice;
}

export async function createSegment(
  client: GraphqlClient,
  key: string,
  constraints: { attribute: string; operator: string; values: string[]; inverted?: boolean; caseInsensitive?: boolean }[],
): Promise<void> {
  await client.ok(`mutation($key: String!, $constraints: [ConstraintInput!]!) { createSegment(key: $key, constraints: $constraints) { key } }`, { key, constraints });
}

export async function sliceHistory(client: GraphqlClient, sliceKey: string, first = 100): Promise<HistoryView[]> {
  const data = await client.ok<{ history: { nodes: HistoryView[] } }>(
    `query($sliceKey: String, $first: Int!) { history(sliceKey: $sliceKey, first: $first) {
       nodes { sequence sliceKey segmentKey action before after actor reason idempotencyKey requestId recordedAt prevHash hash } } }`,
    { sliceKey, first },
  );
  return data.history.nodes;
}

export async function evaluate(client: GraphqlClient, sliceKey: string, context: Record<string, string>) {
  const data = await client.ok<{ evaluate: { path: string; reason: string; ruleIndex: number | null } }>(
    'query($sliceKey: String!, $context: Context!) { evaluate(sliceKey: $sliceKey, context: $context) { path reason ruleIndex } }',
    { sliceKey, context },
  );
  return data.evaluate;
}
