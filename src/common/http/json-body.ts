import { isUtf8 } from 'node:buffer';
import type { IncomingMessage } from 'node:http';
import { InvalidInputException } from '../errors/switchyard.exception.js';
import { findUnstorableText } from '../validation/storable-text.js';
import { mayHoldUnstorableText } from './storable-body.js';

/**
 * JSON request bodies read without Express, for the routes of the HTTP fast path
 * (delivery/delivery-http.handler.ts), with the rules the Express pipeline applies to every
 * other JSON body (app.factory.ts: body-parser's `json` with SWITCHYARD_MAX_BODY_BYTES, then
 * storableBodyMiddleware), so that a request means the same whichever path answers it:
 *  - larger than the limit: PAYLOAD_TOO_LARGE (413), as body-parser says it;
 *  - not UTF-8: INVALID_INPUT on `body`;
 *  - not JSON, or JSON whose top level is not an object or array (body-parser's strict mode):
 *    INVALID_INPUT; an empty body is `{}`, as body-parser makes it;
 *  - a string or key that cannot be stored exactly (NUL, an unpaired surrogate): INVALID_INPUT
 *    naming its path.
 * Only the plain case is taken (`isPlainJsonRequest`): a compressed body, another content type or
 * charset goes on to Express, which knows them all.
 */

/** A request this module reads: `Content-Type: application/json` (charset absent or UTF-8), not content-encoded. */
export function isPlainJsonRequest(req: IncomingMessage): boolean {
  return isMediaType(req, 'application/json');
}

function isMediaType(req: IncomingMessage, expected: string): boolean {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') return false;
  const type = req.headers['content-type'];
  if (type === undefined) return false;
  const [media, ...params] = type.split(';');
  if (media!.trim().toLowerCase() !== expected) return false;
  return params.every((param) => {
    const [name, value = ''] = param.split('=');
    return name!.trim().toLowerCase() !== 'charset' || /^"?utf-8"?$/i.test(value.trim());
  });
}

/**
 * A report stream's request (delivery-http.handler.ts): `Content-Type: application/x-ndjson`
 * (charset absent or UTF-8), not content-encoded. Its lines are read by `parseJsonBody`.
 */
export function isNdjsonRequest(req: IncomingMessage): boolean {
  return isMediaType(req, 'application/x-ndjson');
}

/** body-parser's errors carry `status` and `expose`; the error mapper renders them (error-mapper.ts). */
export function httpError(status: number, message: string, type: string): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true, type });
}

/** Reads and parses the body of a plain JSON request (see the module). Rejects with the errors the Express pipeline would give. */
export function readJsonBody(req: IncomingMessage, limitBytes: number): Promise<unknown> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limitBytes) return Promise.reject(httpError(413, 'request entity too large', 'entity.too.large'));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('aborted', onAborted);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        reject(httpError(413, 'request entity too large', 'entity.too.large'));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      try {
        resolve(parseJsonBody(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
      } catch (error) {
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onAborted = (): void => {
      cleanup();
      reject(httpError(400, 'request aborted', 'request.aborted'));
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('aborted', onAborted);
  });
}

/** The body's value, by the rules of the module. Exported for its tests. */
export function parseJsonBody(raw: Buffer): unknown {
  if (!isUtf8(raw)) throw InvalidInputException.field('body', 'must be UTF-8 encoded JSON');
  const text = raw.toString('utf8');
  const first = /\S/.exec(text);
  if (first === null) return {};
  if (first[0] !== '{' && first[0] !== '[')
    throw httpError(400, `Unexpected token ${JSON.stringify(first[0])} at the start of the body: not a JSON object or array`, 'entity.parse.failed');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw httpError(400, (error as Error).message, 'entity.parse.failed');
  }
  if (mayHoldUnstorableText(raw)) {
    const findings = findUnstorableText(body, '');
    if (findings.length > 0) throw new InvalidInputException(findings);
  }
  return body;
}
