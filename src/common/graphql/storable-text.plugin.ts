import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  GraphQLError,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
  type VariableDefinitionNode,
} from 'graphql';
import { HTTP_STATUS } from '../errors/error-codes.js';
import { toPublicError } from '../errors/error-mapper.js';
import { InvalidInputException } from '../errors/switchyard.exception.js';
import { childPath, findUnstorableText, unstorableReason, type UnstorableText } from '../validation/storable-text.js';

/**
 * Refuses an operation that would hand a resolver text PostgreSQL cannot store exactly (NUL, an
 * unpaired surrogate: see storable-text.ts), after the document is validated and before any field
 * runs: a refusal writes nothing, even for the second field of a two-field mutation.
 *
 * Every argument of every field and directive the operation can reach is looked at: string
 * literals in the query text (`reason: "\u0000"` is a NUL once GraphQL has read the escape), and
 * the variables they name (strings and object keys at any depth, the JSON scalars' included); a
 * variable the request does not send is checked through its default. Each fragment is walked once,
 * however often it is spread, so the cost is linear in the document and the variables.
 *
 * The refusal is INVALID_INPUT (BAD_USER_INPUT, HTTP 400) naming the argument path, as
 * class-validator's refusals do (`reason`, `constraints[0].values[3]`), with the schema field
 * it belongs to in `fieldName`.
 */
export function storableTextPlugin(): ApolloServerPlugin<BaseContext> {
  return {
    requestDidStart: () =>
      Promise.resolve({
        // Apollo's hooks return promises: `async` makes the refusal thrown below this one's rejection.
        // eslint-disable-next-line @typescript-eslint/require-await -- nothing to wait for; see above
        didResolveOperation: async ({ operation, document, request }) => {
          // Apollo resolves the operation before this hook and refuses a document without one.
          if (operation === undefined) return;
          const findings = unstorableArguments(document, operation, request.variables ?? {});
          if (findings.length === 0) return;
          const mapped = toPublicError(new InvalidInputException(findings.map(({ field, message }) => ({ field, message }))));
          throw new GraphQLError(mapped.message, {
            extensions: {
              ...mapped.details,
              fieldName: findings[0]!.fieldName,
              code: mapped.category,
              errorCode: mapped.code,
              http: { status: HTTP_STATUS[mapped.category] },
            },
          });
        },
      }),
  };
}

interface ArgumentFinding extends UnstorableText {
  /** The schema field (or directive, as `@name`) whose argument it is. */
  readonly fieldName: string;
}

/** Every argument value reachable from `operation`, checked. Exported for its unit test. */
export function unstorableArguments(document: DocumentNode, operation: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>): ArgumentFinding[] {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const def of document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) fragments.set(def.name.value, def);
  const definitions = new Map<string, VariableDefinitionNode>();
  for (const def of operation.variableDefinitions ?? []) definitions.set(def.variable.name.value, def);

  const findings: ArgumentFinding[] = [];
  const checkValue = (fieldName: string, value: ValueNode, path: string): void => {
    const found: UnstorableText[] = [];
    walkValue(value, path, variables, definitions, found);
    for (const f of found) findings.push({ ...f, fieldName });
  };

  const visitedFragments = new Set<string>();
  const sets: SelectionSetNode[] = [operation.selectionSet];
  for (const directive of operation.directives ?? []) for (const arg of directive.arguments ?? []) checkValue(`@${directive.name.value}`, arg.value, arg.name.value);
  while (sets.length > 0 && findings.length === 0) {
    for (const selection of sets.pop()!.selections) {
      for (const directive of selection.directives ?? []) {
        for (const arg of directive.arguments ?? []) checkValue(`@${directive.name.value}`, arg.value, arg.name.value);
      }
      if (selection.kind === Kind.FIELD) {
        for (const arg of selection.arguments ?? []) checkValue(selection.name.value, arg.value, arg.name.value);
        if (selection.selectionSet) sets.push(selection.selectionSet);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        sets.push(selection.selectionSet);
      } else if (!visitedFragments.has(selection.name.value)) {
        visitedFragments.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment !== undefined) sets.push(fragment.selectionSet);
      }
    }
  }
  return findings;
}

function walkValue(
  root: ValueNode,
  rootPath: string,
  variables: Readonly<Record<string, unknown>>,
  definitions: ReadonlyMap<string, VariableDefinitionNode>,
  into: UnstorableText[],
): void {
  const stack: { node: ValueNode; path: string; viaDefault: boolean }[] = [{ node: root, path: rootPath, viaDefault: false }];
  while (stack.length > 0) {
    const { node, path, viaDefault } = stack.pop()!;
    switch (node.kind) {
      case Kind.STRING: {
        const reason = unstorableReason(node.value);
        if (reason !== null) into.push({ field: path, message: reason });
        break;
      }
      case Kind.LIST:
        node.values.forEach((v, i) => stack.push({ node: v, path: childPath(path, i), viaDefault }));
        break;
      case Kind.OBJECT:
        for (const field of node.fields) stack.push({ node: field.value, path: childPath(path, field.name.value), viaDefault });
        break;
      case Kind.VARIABLE: {
        // Defaults may not name variables (GraphQL's validation refuses it): no loop here.
        if (viaDefault) break;
        const name = node.name.value;
        if (Object.hasOwn(variables, name)) {
          findUnstorableText(variables[name], path, into);
        } else {
          const fallback = definitions.get(name)?.defaultValue;
          if (fallback !== undefined) stack.push({ node: fallback, path, viaDefault: true });
        }
        break;
      }
      default:
        // Int, Float, Boolean, Null, Enum: nothing to store as text (enum names are GraphQL names).
        break;
    }
  }
}
