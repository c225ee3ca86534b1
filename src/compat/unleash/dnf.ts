/**
 * Boolean formulas in disjunctive normal form, with a rollout share per term: the algebra the
 * toggle mapper (toggle-mapper.ts) expands targeting with. Pure; knows nothing about Unleash
 * beyond "a term may also ask for the subject's rollout position to be below a whole percent".
 *
 * A literal is an atom (any payload, identified by `base`) or its negation. A term is a
 * conjunction of literals and one share (`percent`, 1..100; 100 = no rollout needed). A DNF is a
 * disjunction of terms: `[]` is false, `[TRUE_TERM]` true.
 *
 * Shares only ever occur un-negated in what is expanded, so `roll(p) AND roll(q)` = `roll(min(p, q))`
 * and a term with a larger share admits everyone a term with the same literals and a smaller one
 * admits: that is all `conjoin` and `subsumes` assume of them.
 */

export interface Literal<A> {
  /** Identity of the atom, without negation: two literals with equal bases are the same atom. */
  readonly base: string;
  readonly negated: boolean;
  readonly atom: A;
}

export interface Term<A> {
  readonly literals: readonly Literal<A>[];
  /** `idOf(base, negated)` of every literal. */
  readonly ids: ReadonlySet<string>;
  /** Whole percent of subjects by rollout position, 1..100 (100 = no rollout needed). */
  readonly percent: number;
}

export type Dnf<A> = readonly Term<A>[];

/** Thrown when an expansion grows past its limit (see `product`). */
export class ExpansionOverflow extends Error {}

export const TRUE_TERM: Term<never> = { literals: [], ids: new Set(), percent: 100 };

/** The DNF true: one term without literals, everyone admitted. */
export function trueDnf<A>(): Dnf<A> {
  return [TRUE_TERM];
}

export const idOf = (base: string, negated: boolean): string => `${negated ? '!' : '='}${base}`;

/** The conjunction of `literals` at `percent`, or null when it is a contradiction (c and not c). */
export function termOf<A>(literals: readonly Literal<A>[], percent = 100): Term<A> | null {
  let term: Term<A> | null = { literals: [], ids: new Set(), percent };
  for (const literal of literals) {
    term = withLiteral(term, literal);
    if (term === null) return null;
  }
  return term;
}

/** `term AND literal`: null when that is a contradiction (c and not c). */
export function withLiteral<A>(term: Term<A>, literal: Literal<A>): Term<A> | null {
  const id = idOf(literal.base, literal.negated);
  if (term.ids.has(id)) return term;
  if (term.ids.has(idOf(literal.base, !literal.negated))) return null;
  return { literals: [...term.literals, literal], ids: new Set([...term.ids, id]), percent: term.percent };
}

/** `a AND b`: null when contradictory. */
export function conjoin<A>(a: Term<A>, b: Term<A>): Term<A> | null {
  let out: Term<A> | null = { ...a, percent: Math.min(a.percent, b.percent) };
  for (const literal of b.literals) {
    out = withLiteral(out, literal);
    if (out === null) return null;
  }
  return out;
}

/** True when every subject `b` admits, `a` admits too (so `a OR b` = `a`). */
export function subsumes<A>(a: Term<A>, b: Term<A>): boolean {
  if (a.ids.size > b.ids.size || a.percent < b.percent) return false;
  for (const id of a.ids) if (!b.ids.has(id)) return false;
  return true;
}

/**
 * Removes duplicates (keeping the larger share) and terms another term already covers, keeping the
 * first-seen order. Pairwise absorption is quadratic: it is skipped on lists longer than
 * `2 * limit`, which are going to overflow anyway (a bound on work, not on output).
 */
export function simplify<A>(terms: readonly Term<A>[], limit: number): Term<A>[] {
  const byIds = new Map<string, Term<A>>();
  for (const term of terms) {
    const key = [...term.ids].sort().join('\n');
    const seen = byIds.get(key);
    if (seen === undefined || seen.percent < term.percent) byIds.set(key, seen === undefined ? term : { ...seen, percent: term.percent });
  }
  const unique = [...byIds.values()];
  if (unique.length > 2 * limit) return unique;
  return unique.filter((term, i) => !unique.some((other, j) => j !== i && subsumes(other, term) && (!subsumes(term, other) || j < i)));
}

/** `a AND b`, simplified. Throws ExpansionOverflow when the result (or the work) passes `limit` terms. */
export function product<A>(a: Dnf<A>, b: Dnf<A>, limit: number): Dnf<A> {
  // Contradictions and absorption may shrink a product, but rarely by this much.
  if (a.length * b.length > limit * 4) throw new ExpansionOverflow();
  const out: Term<A>[] = [];
  for (const x of a) {
    for (const y of b) {
      const z = conjoin(x, y);
      if (z !== null) out.push(z);
    }
  }
  const simplified = simplify(out, limit);
  if (simplified.length > limit) throw new ExpansionOverflow();
  return simplified;
}
