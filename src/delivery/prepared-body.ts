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
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/** Brotli, else gzip, when the client accepts it (q=0 means refused); null for identity. */
export function preferredEncoding(header: string | undefined): ContentEncoding | null {
  if (header === undefined) return null;
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

/**
 * Answers a GET or HEAD with a prepared JSON body: 304 when If-None-Match names `etag`, else 200
 * with the body in the best encoding the client accepts. `vary` names the request headers the
 * body depends on besides Accept-Encoding (a cache in between must not mix them up).
 */
export function writePrepared(req: IncomingMessage, res: ServerResponse, prepared: PreparedBody, etag: string, vary: string | null = null): void {
  const varies = vary === null ? 'accept-encoding' : `${vary}, accept-encoding`;
  if (matchesEtag(req.headers['if-none-match'], etag)) {
    res.writeHead(304, { etag, 'cache-control': 'no-cache', vary: varies }).end();
    return;
  }
  const encoding = preferredEncoding(req.headers['accept-encoding']);
  const body = encoding === null ? prepared.body : prepared.encoded(encoding);
  res.writeHead(200, {
    etag,
    'cache-control': 'no-cache',
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.length,
    vary: varies,
    ...(encoding === null ? {} : { 'content-encoding': encoding }),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
