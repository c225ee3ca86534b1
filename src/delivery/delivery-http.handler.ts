import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { RequestAuthenticator } from '../auth/request-authenticator.js';
import { AuthException } from '../access/auth.exception.js';
import { Permission, type Principal, roleGrants } from '../access/roles.js';
import { httpErrorBody } from '../common/errors/all-exceptions.filter.js';
import { HTTP_STATUS } from '../common/errors/error-codes.js';
import { toPublicError } from '../common/errors/error-mapper.js';
import { InvalidInputException, SwitchyardException } from '../common/errors/switchyard.exception.js';
import { ApiTokensService } from '../auth/api-tokens.service.js';
import { APP_CONFIG, type AppConfig } from '../config/env.js';
import { httpError, isNdjsonRequest, isPlainJsonRequest, parseJsonBody, readJsonBody } from '../common/http/json-body.js';
import { requestIdFor } from '../common/http/request-id.middleware.js';
import { requestPath, withMergedSlashes } from '../common/http/request-path.js';
import { EventStreamSet } from './event-stream-set.js';
import { LineUpload } from './line-upload.js';
import { writePrepared } from './prepared-body.js';
import type { PublishedSnapshot } from './published-snapshot.js';
import { SnapshotService } from './snapshot.service.js';
import { StreamHub } from './stream-hub.service.js';

const SNAPSHOT_PATH = '/sdk/v1/snapshot';
const STREAM_PATH = '/sdk/v1/stream';
/** A 202 has no body. */
const ACCEPTED_HEADERS: Readonly<Record<string, string>> = { 'content-length': '0' };
/** A line of a report stream taken (the 202 of its POST). */
const ACCEPTED_LINE = '{"status":202}';

/**
 * A GET (or HEAD) endpoint answered on the fast path: authenticated, given a request id, refused
 * while shutting down, and its errors rendered, by DeliveryHttpHandler; the rest is `serve`'s.
 */
export interface FastRoute {
  readonly method?: 'GET';
  /** The path, exactly (after runs of slashes are merged: see requestPath). */
  readonly path: string;
  /**
   * Whether `Authorization: <token>` without a scheme is taken (official Unleash SDKs send it
   * so; only their routes take it, as UnleashAuthMiddleware does for the rest of /api/client).
   */
  readonly bareToken: boolean;
  /**
   * Answers the request of a caller whose token grants READ_CONFIG. Its response head must carry
   * `x-request-id: requestId` (writePrepared's `requestId`; `res.setHeader` before a stream's
   * head): the handler does not set it first, because a response with no header set yet has its
   * head object written as given, where one set before makes Node copy and check every header
   * of it again (about a tenth of a 304's CPU). May throw: the error is rendered like any other.
   */
  serve(req: IncomingMessage, res: ServerResponse, principal: Principal, requestId: string): void;
}

/**
 * A POST endpoint with a JSON body answered on the fast path, as a FastRoute is, and its body
 * read by the rules every JSON body of the service follows (common/http/json-body.ts). A request
 * that is not plain JSON (compressed, another content type) is left to Express, where a
 * controller must answer the same path.
 */
export interface FastPostRoute {
  readonly method: 'POST';
  readonly path: string;
  readonly bareToken: boolean;
  /** Takes the parsed body of a caller whose token grants READ_CONFIG; the request is answered 202 unless it throws. */
  receive(body: unknown, principal: Principal): void;
  /** Headers of the 202 besides `content-length: 0` (e.g. what the endpoint can read: traffic.controller.ts). */
  readonly acceptedHeaders?: Readonly<Record<string, string>>;
  /**
   * Where the same bodies are also taken as a stream (PROTOCOL.md, "The report stream"): one
   * long-lived POST of `application/x-ndjson`, a body per line, each answered by a line of the
   * response (line-upload.ts). For clients that send often: one request's work (parsing, the
   * token's check, the 202's head and its write) per upload rather than per body.
   */
  readonly streamPath?: string;
}

/**
 * The delivery endpoints, answered on the HTTP server before Express and Nest see the request:
 * GET /sdk/v1/snapshot and /sdk/v1/stream (client-sdk/PROTOCOL.md), and the routes other modules
 * add (`route`: the Unleash client API's features and streaming, src/compat/unleash; the SDK's
 * usage reports, POST /sdk/v1/metrics, src/traffic).
 *
 * Why not a controller: these are the service's hot endpoints (every SDK polls or streams them;
 * 10,000 reconnect at once after a deploy), and the Express/Nest pipeline (body parsers, router,
 * guards, interceptors) cost about 250 µs of CPU per request where the work itself (a cached token
 * check, an ETag comparison, writing a buffer) costs about 40: measured with `npm run
 * bench:delivery`. The semantics are the rest of the service's: the same token check and role
 * rule, the same request id, the same error body, 503 while shutting down.
 *
 * Every request's path has its runs of slashes merged first (requestPath), and `req.url` is
 * rewritten so for the listeners after this one (Express): `/api//client/register` is served as
 * `/api/client/register`.
 */
@Injectable()
export class DeliveryHttpHandler implements OnModuleDestroy {
  private readonly logger = new Logger(DeliveryHttpHandler.name);
  private readonly routes = new Map<string, FastRoute>();
  private readonly postRoutes = new Map<string, FastPostRoute>();
  private readonly uploadRoutes = new Map<string, FastPostRoute>();
  /** The open report streams: ended when their token is withdrawn, and at shutdown. */
  private readonly uploads: EventStreamSet<{ readonly res: ServerResponse }, never>;
  private closing = false;

  constructor(
    private readonly snapshots: SnapshotService,
    private readonly hub: StreamHub,
    private readonly authenticator: RequestAuthenticator,
    tokens: ApiTokensService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.uploads = new EventStreamSet<{ readonly res: ServerResponse }, never>(() => {}, tokens);
    this.route({ path: SNAPSHOT_PATH, bareToken: false, serve: (req, res, _principal, requestId) => this.snapshot(req, res, this.currentSnapshot(), requestId) });
    this.route({
      path: STREAM_PATH,
      bareToken: false,
      serve: (req, res, principal, requestId) => {
        res.setHeader('x-request-id', requestId);
        this.hub.open(req, res, this.currentSnapshot(), principal);
      },
    });
  }

  /** Adds a fast-path endpoint (before the server takes requests: at module init). */
  route(route: FastRoute | FastPostRoute): void {
    const routes: Map<string, FastRoute | FastPostRoute> = route.method === 'POST' ? this.postRoutes : this.routes;
    if (routes.has(route.path)) throw new Error(`fast route ${route.method ?? 'GET'} ${route.path} is defined twice`);
    if (route.method === 'POST' && route.streamPath !== undefined) {
      if (this.uploadRoutes.has(route.streamPath) || this.postRoutes.has(route.streamPath)) throw new Error(`fast route POST ${route.streamPath} is defined twice`);
      this.uploadRoutes.set(route.streamPath, route);
    }
    // The 202's headers made once, not per request.
    routes.set(route.path, route.method === 'POST' ? { ...route, acceptedHeaders: { ...route.acceptedHeaders, ...ACCEPTED_HEADERS } } : route);
  }

  /** Puts this handler in front of the server's other request listeners (Express). */
  install(server: Server): void {
    const others = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!this.handle(req, res)) for (const listener of others) listener.call(server, req, res);
    });
  }

  /** From the start of shutdown on, new requests get 503 so SDKs go to another instance; open report streams end (see EventStreamSet.endAll). */
  async onModuleDestroy(): Promise<void> {
    this.closing = true;
    await this.uploads.endAll();
  }

  /** True when the request was one of ours. Merges doubled slashes in `req.url` either way. */
  handle(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.url !== undefined) req.url = withMergedSlashes(req.url);
    const isPost = req.method === 'POST';
    if (!isPost && req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = requestPath(req.url);
    const route = isPost ? this.postRoutes.get(path) : this.routes.get(path);
    const upload = route === undefined && isPost ? this.uploadRoutes.get(path) : undefined;
    if (upload === undefined && (route === undefined || (route.method === 'POST' && !isPlainJsonRequest(req)))) return false;
    const requestId = requestIdFor(req.headers['x-request-id']);
    // A refused upload's body may never end: its connection is closed after the answer.
    const fail = (error: unknown) => this.fail(res, error, requestId, `${req.method} ${path}`, upload !== undefined);
    try {
      const served =
        upload !== undefined
          ? this.openUpload(upload, req, res, requestId)
          : route!.method === 'POST'
            ? this.receive(route!, req, res, requestId)
            : this.serve(route!, req, res, requestId);
      served?.catch(fail);
    } catch (error) {
      fail(error);
    }
    return true;
  }

  /**
   * In the same turn when the caller's token was verified before (every poll but an SDK's first:
   * no promise, no microtask), else once the token is looked up; undefined when served already.
   */
  private serve(route: FastRoute, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> | undefined {
    return this.asCaller(route, req, res, requestId, (principal) => this.serveAs(route, req, res, principal, requestId));
  }

  /**
   * Calls `go` with the caller's principal: in the same turn when its token was verified before,
   * else once it is looked up (the promise); nothing while shutting down (answered 503).
   */
  private asCaller(
    route: { readonly bareToken: boolean },
    req: IncomingMessage,
    res: ServerResponse,
    requestId: string,
    go: (principal: Principal) => void,
  ): Promise<void> | undefined {
    if (this.refusedWhileClosing(res, requestId)) return undefined;
    const options = { allowBareToken: route.bareToken };
    const known = this.authenticator.known(req, options);
    if (known !== null) {
      go(known);
      return undefined;
    }
    return this.authenticator.authenticate(req, options).then(go);
  }

  private serveAs(route: FastRoute, req: IncomingMessage, res: ServerResponse, principal: Principal, requestId: string): void {
    if (!roleGrants(principal.role, Permission.READ_CONFIG)) throw AuthException.forbidden(principal.role, Permission.READ_CONFIG);
    route.serve(req, res, principal, requestId);
  }

  /**
   * Authenticated before the body is read: a caller without a valid token costs no parsing (its
   * body is discarded by Node once the answer is sent). 202 with no body once `receive` took it.
   */
  private async receive(route: FastPostRoute, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> {
    if (this.refusedWhileClosing(res, requestId)) return;
    // A token verified before answers without a promise, as for a GET (see serve).
    const options = { allowBareToken: route.bareToken };
    const principal = this.authenticator.known(req, options) ?? (await this.authenticator.authenticate(req, options));
    if (!roleGrants(principal.role, Permission.READ_CONFIG)) throw AuthException.forbidden(principal.role, Permission.READ_CONFIG);
    const body = await readJsonBody(req, this.config.maxBodyBytes);
    route.receive(body, principal);
    res.writeHead(202, { ...(route.acceptedHeaders ?? ACCEPTED_HEADERS), 'x-request-id': requestId });
    res.end();
  }

  /**
   * A report stream (FastPostRoute.streamPath): authenticated once, as any request; then answered
   * 200 at once, with the 202's headers (what the endpoint reads), so the client knows the stream
   * is open before its first line; then each line as a POST's body, answered by a line.
   */
  private openUpload(route: FastPostRoute, req: IncomingMessage, res: ServerResponse, requestId: string): Promise<void> | undefined {
    return this.asCaller(route, req, res, requestId, (principal) => this.startUpload(route, req, res, principal, requestId));
  }

  private startUpload(route: FastPostRoute, req: IncomingMessage, res: ServerResponse, principal: Principal, requestId: string): void {
    if (!roleGrants(principal.role, Permission.READ_CONFIG)) throw AuthException.forbidden(principal.role, Permission.READ_CONFIG);
    if (!isNdjsonRequest(req)) throw InvalidInputException.field('content-type', 'must be application/x-ndjson (UTF-8), not content-encoded');
    const { 'content-length': _none, ...accepted } = route.acceptedHeaders ?? {};
    res.writeHead(200, { ...accepted, 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store', 'x-request-id': requestId });
    res.flushHeaders();
    const operation = `POST ${route.streamPath!}`;
    const upload = new LineUpload(req, res, {
      maxLineBytes: this.config.maxBodyBytes,
      answer: (line) => {
        try {
          route.receive(parseJsonBody(line), principal);
          return ACCEPTED_LINE;
        } catch (error) {
          return this.errorLine(error, requestId, operation);
        }
      },
      tooLong: () => this.errorLine(httpError(413, 'request entity too large', 'entity.too.large'), requestId, operation),
    });
    this.uploads.add({ res }, principal);
    // Ended after SWITCHYARD_REPORT_STREAM_LIFETIME_MS: the client opens another for its next report.
    const lifetime = setTimeout(() => upload.end(), this.config.reportStreamLifetimeMs);
    lifetime.unref();
    res.once('close', () => clearTimeout(lifetime));
  }

  /** The answer line of a refused line of a report stream: the status and body its POST would have had. */
  private errorLine(error: unknown, requestId: string, operation: string): string {
    const mapped = toPublicError(error);
    if (mapped.unexpected) this.logger.error({ msg: 'unexpected error', requestId, operation, error: String(error) }, (error as Error)?.stack);
    return JSON.stringify({ status: HTTP_STATUS[mapped.category], ...httpErrorBody(mapped) });
  }

  /** True when the request was answered 503 (shutting down). */
  private refusedWhileClosing(res: ServerResponse, requestId: string): boolean {
    if (!this.closing) return false;
    res.writeHead(503, { connection: 'close', 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId });
    res.end(JSON.stringify(httpErrorBody(toPublicError(new SwitchyardException('SNAPSHOT_UNAVAILABLE', 'This instance is shutting down; retry.')))));
    return true;
  }

  private currentSnapshot(): PublishedSnapshot {
    const snapshot = this.snapshots.current();
    if (snapshot === null) {
      throw new SwitchyardException('SNAPSHOT_UNAVAILABLE', 'No configuration loaded yet (the database has been unreachable since start); retry shortly.');
    }
    return snapshot;
  }

  private snapshot(req: IncomingMessage, res: ServerResponse, snapshot: PublishedSnapshot, requestId: string): void {
    writePrepared(req, res, snapshot.prepared, snapshot.etag, { requestId });
  }

  private fail(res: ServerResponse, error: unknown, requestId: string, operation: string, close = false): void {
    const mapped = toPublicError(error);
    if (mapped.unexpected) this.logger.error({ msg: 'unexpected error', requestId, operation, error: String(error) }, (error as Error)?.stack);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // A body too large is not read to its end: the connection closes after the answer.
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8', 'x-request-id': requestId };
    if (mapped.code === 'PAYLOAD_TOO_LARGE' || close) headers.connection = 'close';
    res.writeHead(HTTP_STATUS[mapped.category], headers);
    res.end(JSON.stringify(httpErrorBody(mapped)));
  }
}
