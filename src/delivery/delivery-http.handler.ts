import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { ApiTokensService } from '../auth/api-tokens.service.js';
import { AuthException } from '../auth/auth.exception.js';
import { Permission, roleGrants } from '../auth/roles.js';
import { httpErrorBody } from '../common/errors/all-exceptions.filter.js';
import { HTTP_STATUS } from '../common/errors/error-codes.js';
import { toPublicError } from '../common/errors/error-mapper.js';
import { SwitchyardException } from '../common/errors/switchyard.exception.js';
import { requestIdFor } from '../common/http/request-id.middleware.js';
import type { ContentEncoding, PublishedSnapshot } from './published-snapshot.js';
import { SnapshotService } from './snapshot.service.js';
import { StreamHub } from './stream-hub.service.js';

const SNAPSHOT_PATH = '/sdk/v1/snapshot';
const STREAM_PATH = '/sdk/v1/stream';

/**
 * GET /sdk/v1/snapshot and /sdk/v1/stream (client-sdk/PROTOCOL.md), answered on the HTTP server
 * before Express and Nest see the request.
 *
 * Why not a controller: these are the service's hot endpoints (every SDK polls or streams them;
 * 10,000 reconnect at once after a deploy), and the Express/Nest pipeline (body parsers, router,
 * guards, interceptors) cost about 250 µs of CPU per request where the work itself (a cached token
 * check, an ETag comparison, writing a buffer) costs about 40: measured with `npm run
 * bench:delivery`. The semantics are the rest of the service's: the same token check and role
 * rule, the same request id, the same error body, 503 while shutting down.
 */
@Injectable()
export class DeliveryHttpHandler implements OnModuleDestroy {
  private readonly logger = new Logger(DeliveryHttpHandler.name);
  private closing = false;

  constructor(
    private readonly snapshots: SnapshotService,
    private readonly hub: StreamHub,
    private readonly tokens: ApiTokensService,
  ) {}

  /** Puts this handler in front of the server's other request listeners (Express). */
  install(server: Server): void {
    const others = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!this.handle(req, res)) for (const listener of others) listener.call(server, req, res);
    });
  }

  /** From the start of shutdown on, new requests get 503 so SDKs go to another instance. */
  onModuleDestroy(): void {
    this.closing = true;
  }

  /** True when the request was one of ours. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '';
    const query = url.indexOf('?');
    const path = query < 0 ? url : url.slice(0, query);
    if (path !== SNAPSHOT_PATH && path !== STREAM_PATH) return false;
    const requestId = requestIdFor(req.headers['x-request-id']);
    res.setHeader('x-request-id', requestId);
    this.serve(path, req, res).catch((error: unknown) => this.fail(res, error, requestId, path));
    return true;
  }

  private async serve(path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.closing) {
      res.writeHead(503, { connection: 'close', 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(httpErrorBody(toPublicError(new SwitchyardException('SNAPSHOT_UNAVAILABLE', 'This instance is shutting down; retry.')))));
      return;
    }
    const principal = await this.tokens.authenticateHeader(req.headers.authorization);
    if (!roleGrants(principal.role, Permission.READ_CONFIG)) throw AuthException.forbidden(principal.role, Permission.READ_CONFIG);
    const snapshot = this.snapshots.current();
    if (snapshot === null) {
      throw new SwitchyardException('SNAPSHOT_UNAVAILABLE', 'No configuration loaded yet (the database has been unreachable since start); retry shortly.');
    }
    if (path === STREAM_PATH) this.hub.open(req, res, snapshot, principal);
    else this.snapshot(req, res, snapshot);
  }

  private snapshot(req: IncomingMessage, res: ServerResponse, snapshot: PublishedSnapshot): void {
    if (matchesEtag(req.headers['if-none-match'], snapshot.etag)) {
      res.writeHead(304, { etag: snapshot.etag, 'cache-control': 'no-cache', vary: 'accept-encoding' }).end();
      return;
    }
    const encoding = preferredEncoding(req.headers['accept-encoding']);
    const body = encoding === null ? snapshot.body : snapshot.encoded(encoding);
    res.writeHead(200, {
      etag: snapshot.etag,
      'cache-control': 'no-cache',
      'content-type': 'application/json; charset=utf-8',
      'content-length': body.length,
      vary: 'accept-encoding',
      ...(encoding === null ? {} : { 'content-encoding': encoding }),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private fail(res: ServerResponse, error: unknown, requestId: string, path: string): void {
    const mapped = toPublicError(error);
    if (mapped.unexpected) this.logger.error({ msg: 'unexpected error', requestId, operation: `GET ${path}`, error: String(error) }, (error as Error)?.stack);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.writeHead(HTTP_STATUS[mapped.category], { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(httpErrorBody(mapped)));
  }
}

/** If-None-Match: a list of (possibly weak) ETags, or `*`. */
function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((candidate) => {
    const tag = candidate.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

/** Brotli, else gzip, when the client accepts it (q=0 means refused); null for identity. */
function preferredEncoding(header: string | undefined): ContentEncoding | null {
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
