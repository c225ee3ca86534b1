import { InvalidInputException } from '../errors/switchyard.exception.js';

/**
 * Opaque cursors: base64url of the position (a key, a sequence). Opaque so that clients do not
 * build them; decoded strictly so a mangled cursor is a clear BAD_USER_INPUT, not an empty page.
 */
export function encodeCursor(position: string): string {
  return Buffer.from(`v1:${position}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | null | undefined, field = 'after'): string | null {
  if (cursor === null || cursor === undefined) return null;
  const decoded = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!decoded.startsWith('v1:') || encodeCursor(decoded.slice(3)) !== cursor) {
    throw InvalidInputException.field(field, 'not a cursor returned by this API');
  }
  return decoded.slice(3);
}

/** Builds a page from `first + 1` fetched rows: the extra row only says there is a next page. */
export function toPage<T>(rows: readonly T[], first: number, positionOf: (row: T) => string) {
  const nodes = rows.slice(0, first);
  const last = nodes[nodes.length - 1];
  return {
    nodes,
    pageInfo: { endCursor: last === undefined ? null : encodeCursor(positionOf(last)), hasNextPage: rows.length > first },
  };
}
