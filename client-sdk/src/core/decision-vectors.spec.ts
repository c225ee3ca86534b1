import { readFileSync } from 'node:fs';
import murmurhash3js from 'murmurhash3js';
import { positionFor } from './bucket.js';
import { compileSnapshot, evaluateSlice } from './evaluate.js';
import { OPERATORS, type Decision, type DecisionReason, type EvaluationContext, type SnapshotDefinition } from './types.js';

/** The shared golden file: the server's tests read the same one. */
interface DecisionVectors {
  readonly snapshot: SnapshotDefinition;
  readonly cases: readonly {
    readonly name: string;
    readonly slice: string;
    readonly context: EvaluationContext | null;
    readonly now?: number;
    readonly position?: number;
    readonly expected: Decision;
  }[];
}

const vectors = JSON.parse(readFileSync(new URL('../../../test/fixtures/decision-vectors.json', import.meta.url), 'utf8')) as DecisionVectors;
const sut = compileSnapshot(vectors.snapshot);
const DEFAULT_NOW = Date.parse('2024-03-01T00:00:00Z'); // cases without `now` must not depend on it

describe('decision vectors (test/fixtures/decision-vectors.json)', () => {
  it.each(vectors.cases.map((c) => [`${c.slice}: ${c.name}`, c] as const))('%s', (_name, c) => {
    expect(sut.explain(c.slice, c.context, c.now ?? DEFAULT_NOW)).toEqual(c.expected);
    // ... and the same through the one-off path
    const slice = vectors.snapshot.slices.find((s) => s.key === c.slice);
    if (slice !== undefined) {
      expect(evaluateSlice(slice, vectors.snapshot.segments, c.context, c.now ?? DEFAULT_NOW)).toEqual(c.expected);
    }
  });

  it('records positions that match the core and, for ASCII ids, the Unleash Node hash', () => {
    const bucketed = vectors.cases.filter((c) => c.position !== undefined);
    expect(bucketed.length).toBeGreaterThanOrEqual(10);
    for (const c of bucketed) {
      const slice = vectors.snapshot.slices.find((s) => s.key === c.slice)!;
      const id = c.context?.[slice.stickinessAttribute] as string;
      expect([c.name, positionFor(c.slice, id)]).toEqual([c.name, c.position]);
      // eslint-disable-next-line no-control-regex -- "only ASCII", controls included
      if (/^[\x00-\x7f]*$/.test(id)) {
        const h = murmurhash3js.x86.hash32(`${c.slice}:${id}`);
        expect((h % 100) * 100 + (Math.floor(h / 100) % 100)).toBe(c.position);
      }
    }
  });

  it('covers every reason and every operator', () => {
    const reasons = new Set(vectors.cases.map((c) => c.expected.reason));
    const all: DecisionReason[] = ['UNKNOWN_SLICE', 'ROLLED_BACK', 'ARCHIVED', 'SEGMENT_ROLLED_BACK', 'EXCLUDED', 'INCLUDED', 'NO_STICKINESS', 'RULE', 'ROLLOUT', 'ERROR'];
    expect([...reasons].sort()).toEqual([...all].sort());
    const operators = new Set(vectors.snapshot.segments.flatMap((s) => s.constraints.map((c) => c.operator)));
    for (const op of OPERATORS) expect([op, operators.has(op)]).toEqual([op, true]);
    const paths = new Set(vectors.cases.map((c) => `${c.expected.reason}:${c.expected.path}`));
    for (const both of ['RULE:NEW', 'RULE:LEGACY', 'ROLLOUT:NEW', 'ROLLOUT:LEGACY']) expect(paths.has(both)).toBe(true);
  });

  it('has unique case names per slice', () => {
    const names = vectors.cases.map((c) => `${c.slice}: ${c.name}`);
    expect(new Set(names).size).toBe(names.length);
  });
});
