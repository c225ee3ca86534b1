import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { buildSchema, type GraphQLError, parse, specifiedRules, validate } from 'graphql';
import { getComplexity, simpleEstimator } from 'graphql-query-complexity';
import { exceedsTokenLimit, type QueryLimits, queryLimitRules } from './query-limits.js';

/*
 * The document rules must count exactly what a document stands for once every fragment is
 * expanded (or they can be bypassed), and must never expand it to count it (or they are the
 * denial of service). Checked here against arithmetic over a generated fragment graph, and timed
 * on documents whose expansion is astronomically large.
 */

const schema = buildSchema(readFileSync(new URL('../../schema.graphql', import.meta.url), 'utf8'));
const UNLIMITED: QueryLimits = {
  maxDepth: Number.MAX_SAFE_INTEGER,
  maxAliases: Number.MAX_SAFE_INTEGER,
  maxDirectives: Number.MAX_SAFE_INTEGER,
  maxTokens: Number.MAX_SAFE_INTEGER,
  maxCost: Number.MAX_SAFE_INTEGER,
};
const DEFAULTS: QueryLimits = { maxDepth: 10, maxAliases: 20, maxDirectives: 20, maxTokens: 1_000, maxCost: 20_000 };

function limitCodes(source: string, limits: QueryLimits): string[] {
  const errors: readonly GraphQLError[] = validate(schema, parse(source), queryLimitRules(limits));
  return errors.map((e) => String(e.extensions.errorCode));
}

/**
 * A fragment graph on the cyclic introspection type __Type: fragment i holds leaves (`kind`,
 * optionally aliased or with a directive), spreads of lower fragments, and `ofType { ...Fj }`
 * (one level deeper). The operation selects `__type(name: "Slice") { ...F<last> }`.
 */
type Item = { leaf: { alias: boolean; directive: boolean } } | { spread: number } | { nested: number };

const graphArb = fc
  .array(
    fc.array(
      fc.oneof(
        fc.record({ alias: fc.boolean(), directive: fc.boolean() }).map((leaf) => ({ leaf })),
        fc.nat(),
        fc.nat(),
      ),
      { minLength: 1, maxLength: 4 },
    ),
    {
      minLength: 1,
      maxLength: 9,
    },
  )
  .map((raw) =>
    raw.map((items, i): Item[] =>
      items.map((item, k) => {
        if (typeof item === 'object') return item;
        // Only lower fragments: an acyclic graph. Fragment 0 holds leaves only.
        if (i === 0) return { leaf: { alias: false, directive: false } };
        return k % 2 === 0 ? { spread: item % i } : { nested: item % i };
      }),
    ),
  );

function render(graph: Item[][]): string {
  const body = (items: Item[]) =>
    items
      .map((item) =>
        'leaf' in item
          ? `${item.leaf.alias ? 'a: ' : ''}kind${item.leaf.directive ? ' @skip(if: false)' : ''}`
          : 'spread' in item
            ? `...F${item.spread}`
            : `ofType { ...F${item.nested} }`,
      )
      .join(' ');
  return [`{ __type(name: "Slice") { ...F${graph.length - 1} } }`, ...graph.map((items, i) => `fragment F${i} on __Type { ${body(items)} }`)].join('\n');
}

/** What the document stands for, fully expanded: computed from the graph, not the document. */
function expected(graph: Item[][]) {
  const memo: { fields: number; aliases: number; directives: number; depth: number; selections: number }[] = [];
  for (const items of graph) {
    const f = { fields: 0, aliases: 0, directives: 0, depth: 0, selections: 0 };
    for (const item of items) {
      if ('leaf' in item) {
        f.fields += 1;
        f.aliases += item.leaf.alias ? 1 : 0;
        f.directives += item.leaf.directive ? 1 : 0;
        f.depth = Math.max(f.depth, 1);
        f.selections += 1;
      } else {
        const g = memo['spread' in item ? item.spread : item.nested]!;
        const nested = 'nested' in item ? 1 : 0;
        f.fields += g.fields + nested;
        f.aliases += g.aliases;
        f.directives += g.directives;
        f.depth = Math.max(f.depth, g.depth + nested);
        // the spread, and the ofType field around it
        f.selections += 1 + g.selections + nested;
      }
    }
    memo.push(f);
  }
  const top = memo[memo.length - 1]!;
  // __type(...) { ...F }: the field and the spread
  return { aliases: top.aliases, directives: top.directives, depth: 1 + top.depth, selections: 2 + top.selections };
}

describe('queryLimitRules', () => {
  it('counts aliases, directives, depth and the expanded size exactly as if every fragment were written out', () => {
    fc.assert(
      fc.property(graphArb, (graph) => {
        const source = render(graph);
        const want = expected(graph);
        const cases: [keyof QueryLimits, string, number][] = [
          ['maxAliases', 'TOO_MANY_ALIASES', want.aliases],
          ['maxDirectives', 'TOO_MANY_DIRECTIVES', want.directives],
          ['maxDepth', 'QUERY_TOO_DEEP', want.depth],
          ['maxCost', 'QUERY_TOO_COMPLEX', want.selections],
        ];
        for (const [limit, code, count] of cases) {
          expect(limitCodes(source, { ...UNLIMITED, [limit]: count })).not.toContain(code);
          if (count > 0) expect(limitCodes(source, { ...UNLIMITED, [limit]: count - 1 })).toContain(code);
        }
        // ...and the expansion bound counts exactly the nodes graphql-query-complexity visits (it
        // stops when its count reaches maxQueryNodes), so measureCost's cap is never what stops it.
        const complexity = (maxQueryNodes: number) => () => getComplexity({ schema, query: parse(source), estimators: [simpleEstimator({ defaultComplexity: 1 })], maxQueryNodes });
        expect(complexity(want.selections + 1)).not.toThrow();
        expect(complexity(want.selections)).toThrow();
      }),
      { numRuns: 300 },
    );
  });

  /** `query { ...F<levels> }`, each fragment spreading the one below twice: 2^levels copies of `leaf`. */
  function doubling(levels: number, leaf: string): string {
    const lines = [`query { ...F${levels} }`, `fragment F0 on Query { ${leaf} }`];
    for (let i = 1; i <= levels; i++) lines.push(`fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }`);
    return lines.join('\n');
  }

  it.each([
    ['fields', doubling(95, 'verifyHistory { ok }'), 'QUERY_TOO_COMPLEX'],
    ['aliases', doubling(95, 'a: verifyHistory { ok }'), 'TOO_MANY_ALIASES'],
    ['directives', doubling(95, '__typename @skip(if: false)'), 'TOO_MANY_DIRECTIVES'],
    [
      'depth',
      [
        'query { __type(name: "Slice") { ...T70 } }',
        'fragment T0 on __Type { name }',
        ...Array.from({ length: 70 }, (_, i) => `fragment T${i + 1} on __Type { ofType { ...T${i} ...T${i} } }`),
      ].join('\n'),
      'QUERY_TOO_DEEP',
    ],
  ])('refuses %s doubled 70 to 95 times over (under 1,000 tokens) without expanding them, in milliseconds', (kind, source, code) => {
    expect(exceedsTokenLimit(source, DEFAULTS.maxTokens)).toBe(false);
    const document = parse(source);
    const rules = [...specifiedRules, ...queryLimitRules(DEFAULTS)];
    validate(schema, document, rules); // warm up
    const start = performance.now();
    const errors = validate(schema, document, rules);
    const elapsed = performance.now() - start;
    if (process.env.LIMITS_TIMINGS) console.log(`${kind}: validated in ${elapsed.toFixed(1)} ms`);
    expect(errors.map((e) => e.extensions.errorCode)).toContain(code);
    // The former depth rule took 1.2 s at 20 levels and minutes at 30.
    expect(elapsed).toBeLessThan(50);
  });
});

describe('exceedsTokenLimit', () => {
  it('agrees with graphql-js on where the limit falls (comments and commas are not tokens)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 200 }), (fields, max) => {
        const source = `# a comment\n{ ${'__typename, '.repeat(fields)}}`;
        const tokens = fields + 2;
        expect(exceedsTokenLimit(source, max)).toBe(tokens > max);
        let refusedByParser = false;
        try {
          parse(source, { maxTokens: max });
        } catch {
          refusedByParser = true;
        }
        expect(refusedByParser).toBe(tokens > max);
      }),
    );
  });

  it('is false for a document that fails for another reason before the limit', () => {
    expect(exceedsTokenLimit('{ slices { "unterminated', 100)).toBe(false);
  });
});
