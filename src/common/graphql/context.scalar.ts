import { GraphQLError, GraphQLScalarType } from 'graphql';
import { ATTRIBUTE_NAME_PATTERN, type EvaluationContext } from '@switchyard/client-sdk/core';
import { literalValue } from './json.scalar.js';

const MAX_ATTRIBUTES = 100;
const MAX_VALUE_LENGTH = 1000;

/**
 * An evaluation context: a flat JSON object of attribute name to string,
 * `{ "userId": "42", "country": "KE" }`, the same shape the SDK takes.
 */
export const GraphQLContext = new GraphQLScalarType<EvaluationContext, EvaluationContext>({
  name: 'Context',
  description: 'A flat object of attribute name to string value: {"userId": "42", "country": "KE"}.',
  serialize: (value) => value as EvaluationContext,
  parseValue: (value) => toContext(value),
  parseLiteral: (ast, variables) => toContext(literalValue(ast, variables ?? undefined)),
});

function toContext(value: unknown): EvaluationContext {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw invalid('a context must be an object of attribute name to string value');
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_ATTRIBUTES) throw invalid(`a context has at most ${MAX_ATTRIBUTES} attributes`);
  const context: Record<string, string> = {};
  for (const [name, v] of entries) {
    if (!ATTRIBUTE_NAME_PATTERN.test(name)) throw invalid(`"${name}" is not an attribute name`);
    if (typeof v !== 'string') throw invalid(`attribute "${name}" must be a string (send numbers and dates as strings)`);
    if (v.length > MAX_VALUE_LENGTH) throw invalid(`attribute "${name}" is longer than ${MAX_VALUE_LENGTH} characters`);
    context[name] = v;
  }
  return context;
}

function invalid(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', errorCode: 'INVALID_INPUT', field: 'context' } });
}
