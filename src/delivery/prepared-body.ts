import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';

export type ContentEncoding = 'br' | 'gzip';

/**
 * A response body serialized once and written as is to every request: the JSON, and its compressed
 * forms, each made on first demand (not when the body is prepared, so that a rollback's fan-out
 * to the streams never waits for a compressor) and kept. What both the SDK snapshot and the
 * Unleash features are served from (PublishedSnapshot, UnleashFeaturesService).
 */
export class PreparedBody {
  private readonly compressed = new Map<ContentEncoding, Buffer>();

  constructor(readonly body: Buffer) {}

  /** The body in `encoding`, compressed once (a 55 KB snapshot becomes 2 to 5 KB). */
  encoded(encoding: ContentEncoding): Buffer {
    let buffer = this.compressed.get(encoding);
    if (buffer === undefined) {
      buffer =
        encoding === 'br'
          ? // Quality 5: nearly the size of 11 at a small fraction of the time.
            brotliCompressSync(this.body, { params: { [constants.BROTLI_PARAM_QUALITY]: 5, [constants.BROTLI_PARAM_SIZE_HINT]: this.body.length } })
          : gzipSync(this.body);
      this.compressed.set(encoding, buffer);
    }
    return buffer;
  }
}

/** If-None-Match: a list of (possibly weak) ETags, or `*`. */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  // What an SDK sends back: the one ETag it was given.
  if (header === etag) return true;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/**
 * Accept-Encoding values whose answer is remembered: a fleet of SDKs sends a handful (Node's fetch
 * `gzip, deflate`, Go's `gzip`, browsers theirs); beyond the bound, values are parsed each time.
 */
const MAX_REMEMBERED_ENCODINGS = 100;
const encodings = new Map<string, ContentEncoding | null>();

/** Brotli, else gzip, when the client accepts it (q=0 means refused); null for identity. Remembered per header value. */
export function preferredEncoding(header: string | undefined): ContentEncoding | null {
  if (header === undefined) return null;
  let encoding = encodings.get(header);
  if (encoding === undefined) {
    encoding = parseAcceptEncoding(header);
    if (encodings.size < MAX_REMEMBERED_ENCODINGS) encodings.set(header, encoding);
  }
  return encoding;
}

function parseAcceptEncoding(header: string): ContentEncoding | null {
  const accepted = new Set(
    header
      .split(',')
      .map((part) => part.trim().toLowerCase())
      .filter((part) => !/;\s*q=0(\.0*)?$/.test(part))
      .map((part) => part.split(';')[0]!.trim()),
  );
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  return null;
}

export interface PreparedHead {
  /**
   * The request headers the body depends on besides Accept-Encoding, as a Vary value (a cache in
   * between must not mix them up); e.g. `unleash-client-spec`.
   */
  readonly vary?: string;
  /** Sent as `x-request-id` (DeliveryHttpHandler gives every fast-path response one). */
  readonly requestId?: string;
}

/**
 * Answers a GET or HEAD with a prepared JSON body: 304 when If-None-Match names `etag`, else 200
 * with the body in the best encoding the client accepts.
 *
 * The head is one object given to `writeHead` on a response with no header set before: Node then
 * writes it as it is, where a header set before (`setHeader`) makes it copy and check every one
 * again. On these endpoints that is a tenth of a 304's CPU (npm run bench:delivery).
 */
export function writePrepared(req: IncomingMessage, res: ServerResponse, prepared: PreparedBody, etag: string, head: PreparedHead = {}): void {
  const vary = head.vary === undefined ? 'accept-encoding' : `${head.vary}, accept-encoding`;
  const headers: Record<string, string | number> = { etag, 'cache-control': 'no-cache', vary };
  if (head.requestId !== undefined) headers['x-request-id'] = head.requestId;
  if (matchesEtag(req.headers['if-none-match'], etag)) {
    res.writeHead(304, headers).end();
    return;
  }
  const encoding = preferredEncoding(req.headers['accept-encoding']);
  const body = encoding === null ? prepared.body : prepared.encoded(encoding);
  headers['content-type'] = 'application/json; charset=utf-8';
  headers['content-length'] = body.length;
  if (encoding !== null) headers['content-encoding'] = encoding;
  res.writeHead(200, headers);
  res.end(req.method === 'HEAD' ? undefined : body);
}
