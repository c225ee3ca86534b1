import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { GraphQLArmorRejectCallback } from '@escape.tech/graphql-armor-types';
import { GraphQLError, Kind, Lexer, type SelectionSetNode, Source, TokenKind, type ValidationRule } from 'graphql';

/** The limits every GraphQL document is held to (AppConfig's maxQuery*; see env.ts for each). */
export interface QueryLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  readonly maxTokens: number;
  readonly maxCost: number;
}

/**
 * Why a document was refused before it ran: `extensions.errorCode` of the refusal, beside
 * `extensions.code` GRAPHQL_VALIDATION_FAILED (GRAPHQL_PARSE_FAILED for TOO_MANY_TOKENS), HTTP 400,
 * and `extensions.limit`, the limit it crossed. These never pass through the error-code table:
 * Apollo files them under its own codes, which clients already handle.
 */
export type QueryLimitCode = 'TOO_MANY_TOKENS' | 'QUERY_TOO_DEEP' | 'TOO_MANY_ALIASES' | 'TOO_MANY_DIRECTIVES' | 'QUERY_TOO_COMPLEX' | 'FIELD_LIMIT_EXCEEDED';

/** A refusal of the document, shaped as Apollo shapes its own validation failures. */
export function queryRefusal(errorCode: QueryLimitCode, message: string, details: Readonly<Record<string, unknown>> = {}): GraphQLError {
  return new GraphQLError(message, {
    extensions: { ...details, code: 'GRAPHQL_VALIDATION_FAILED', errorCode, http: { status: 400 } },
  });
}

/**
 * The validation rules that bound a document's shape: GraphQL Armor's depth, alias and directive
 * limits, and the expansion bound below. Every one of them walks each fragment once and remembers
 * its result (a fragment spread twice is counted twice, but expanded once), so they take time
 * linear in the document's size; the graphql-js rules Apollo runs beside them do too. A document
 * of 30 levels of fragments that each spread the one below twice (1 KB of text, a billion fields
 * expanded) is refused in about a millisecond.
 *
 * - depth counts fields only (a fragment adds no level, as if written inline), introspection
 *   included: introspection types are cyclic, so depth is what bounds an introspection query.
 * - Armor's token limit is not used: its Apollo plugin throws from a hook, which Apollo answers
 *   with HTTP 500. graphql-js's own `maxTokens` parse option does the same job (queryParseOptions).
 * - Armor's cost limit is not used: it cannot weigh fields by name (graphql-query-complexity does,
 *   query-cost.ts), and it multiplies by a literal `first` without bounds, so `first: 100000`
 *   would be "too complex" instead of the BAD_USER_INPUT that names the argument.
 * - Armor's suggestion masking is not used: it hides "Did you mean ...?" from everyone, and only
 *   callers who may not introspect need that (query-limits.plugin.ts).
 */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  const reject =
    (errorCode: QueryLimitCode, limit: number): GraphQLArmorRejectCallback =>
    (context, error) =>
      // Armor's messages begin "Syntax Error: ", which this is not.
      context?.reportError(queryRefusal(errorCode, error.message.replace(/^Syntax Error: /, ''), { limit }));
  // propagateOnRejection false: Armor neither throws nor adds a report of its own (with code
  // BAD_USER_INPUT); our onReject reports the one refusal.
  const { validationRules } = new ApolloArmor({
    maxDepth: {
      n: limits.maxDepth,
      flattenFragments: true,
      ignoreIntrospection: false,
      propagateOnRejection: false,
      onReject: [reject('QUERY_TOO_DEEP', limits.maxDepth)],
    },
    maxAliases: { n: limits.maxAliases, propagateOnRejection: false, onReject: [reject('TOO_MANY_ALIASES', limits.maxAliases)] },
    maxDirectives: { n: limits.maxDirectives, propagateOnRejection: false, onReject: [reject('TOO_MANY_DIRECTIVES', limits.maxDirectives)] },
    costLimit: { enabled: false },
    maxTokens: { enabled: false },
    blockFieldSuggestion: { enabled: false },
  }).protect();
  return [...validationRules, expansionBoundRule(limits.maxCost)];
}

/**
 * Refuses an operation that stands for more than `maxSelections` selections (fields, fragment
 * spreads, inline fragments) once every fragment is expanded: QUERY_TOO_COMPLEX. Counted as
 * graphql-query-complexity counts the nodes it visits, but with each fragment counted once and
 * its count reused at every spread. graphql-query-complexity (query-cost.ts) expands a fragment
 * each time it is spread and runs after validation: this is what makes its walk short. Every
 * selection costs at least 1 there, so a document refused here would be refused there as well.
 *
 * Written here because no library rule counts this without expanding fragments or weighing
 * arguments (see above); query-limits.spec.ts checks it against arithmetic on random fragment graphs.
 */
function expansionBoundRule(maxSelections: number): ValidationRule {
  return (context) => {
    const fragments = new Map<string, number>();
    const selectionsIn = (set: SelectionSetNode): number => {
      let count = 0;
      for (const selection of set.selections) {
        count += 1;
        if (selection.kind === Kind.FRAGMENT_SPREAD) count += fragmentSelections(selection.name.value);
        else if (selection.selectionSet !== undefined) count += selectionsIn(selection.selectionSet);
      }
      return count;
    };
    const fragmentSelections = (name: string): number => {
      const known = fragments.get(name);
      if (known !== undefined) return known;
      // A cycle (which graphql-js's NoFragmentCycles refuses) counts nothing on its way back.
      fragments.set(name, 0);
      const fragment = context.getFragment(name);
      const count = fragment ? selectionsIn(fragment.selectionSet) : 0;
      fragments.set(name, count);
      return count;
    };
    return {
      OperationDefinition(operation) {
        const count = selectionsIn(operation.selectionSet);
        if (count > maxSelections) {
          context.reportError(
            queryRefusal('QUERY_TOO_COMPLEX', `The operation stands for more than ${maxSelections} fields once its fragments are expanded.`, {
              limit: maxSelections,
            }),
          );
        }
      },
    };
  };
}

/** graphql-js stops parsing at the token after the limit (comments and commas are not tokens). */
export function queryParseOptions(limits: QueryLimits): { maxTokens: number } {
  return { maxTokens: limits.maxTokens };
}

/**
 * True when `source` has more than `maxTokens` tokens: whether a parse failure was the token
 * limit's. Lexes at most maxTokens + 1 tokens; a document that does not lex that far failed for
 * another reason.
 */
export function exceedsTokenLimit(source: string, maxTokens: number): boolean {
  const lexer = new Lexer(new Source(source));
  try {
    for (let count = 0; count <= maxTokens; count++) {
      if (lexer.advance().kind === TokenKind.EOF) return false;
    }
    return true;
  } catch {
    return false;
  }
}
