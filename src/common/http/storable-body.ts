import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { InvalidInputException } from '../errors/switchyard.exception.js';
import { findUnstorableText } from '../validation/storable-text.js';

/** Set on a request whose body was not UTF-8 (see markNonUtf8Body). */
const NOT_UTF8 = Symbol('switchyard.bodyNotUtf8');
/** Set on a request whose body cannot hold unstorable text (see mayHoldUnstorableText). */
const NO_ESCAPES = Symbol('switchyard.bodyWithoutEscapes');

type MarkedRequest = IncomingMessage & { [NOT_UTF8]?: boolean; [NO_ESCAPES]?: boolean };

/**
 * The JSON body parser's `verify` hook: notes a body that is not UTF-8, which decoding would turn
 * into U+FFFD (text no client sent), so that storableBodyMiddleware refuses it, and a body that
 * cannot hold unstorable text, so that it skips the walk. Not thrown from here: body-parser would
 * wrap the error into a 403 of its own.
 */
export function markNonUtf8Body(req: IncomingMessage, _res: unknown, body: Buffer): void {
  if (!isUtf8(body)) (req as MarkedRequest)[NOT_UTF8] = true;
  else if (!mayHoldUnstorableText(body)) (req as MarkedRequest)[NO_ESCAPES] = true;
}

/**
 * False when a UTF-8 JSON text cannot parse into a string or key that findUnstorableText refuses:
 * JSON allows neither a raw NUL nor any other control character in a string, and valid UTF-8
 * cannot encode a lone surrogate, so both can only come from a `\u` escape. A body without the
 * two bytes `\u` anywhere (the common case: SDK reports) needs no walk of its parsed value; one
 * with them (an escaped backslash before a `u` included) is walked, as every body used to be.
 */
export function mayHoldUnstorableText(utf8Json: Buffer): boolean {
  return utf8Json.indexOf('\\u') >= 0;
}

/**
 * Every request with a JSON body, before guards, handlers and Apollo: a body that was not UTF-8 is
 * refused with INVALID_INPUT on `body`; on REST routes (SDK usage reports, Unleash registrations
 * and metrics), so is a body with any string or key that cannot be stored exactly
 * (storable-text.ts), naming its path. GraphQL's arguments are checked by its plugin
 * (storable-text.plugin.ts), which also sees the literals in the query text.
 */
export function storableBodyMiddleware(req: Request, _res: Response, next: NextFunction): void {
  if ((req as MarkedRequest)[NOT_UTF8] === true) {
    next(InvalidInputException.field('body', 'must be UTF-8 encoded JSON'));
    return;
  }
  const body: unknown = req.body;
  if (body !== undefined && body !== null && (req as MarkedRequest)[NO_ESCAPES] !== true && !isGraphql(req)) {
    const findings = findUnstorableText(body, typeof body === 'object' ? '' : 'body');
    if (findings.length > 0) {
      next(new InvalidInputException(findings));
      return;
    }
  }
  next();
}

/** `originalUrl`: a middleware mounted on a route pattern sees `path` relative to it. */
function isGraphql(req: Request): boolean {
  const url = req.originalUrl;
  const end = url.indexOf('?');
  return (end < 0 ? url : url.slice(0, end)) === '/graphql';
}
