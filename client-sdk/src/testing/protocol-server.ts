/**
 * A protocol peer for the SDK's tests: a real HTTP server (node:http) that speaks PROTOCOL.md by
 * default and can be told to misbehave in the ways the real service will not on demand (errors,
 * malformed events, a silent stream, a dropped connection, a heartbeat ahead of the stream).
 * Not part of the SDK build; type-checked with the tests.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { diffSnapshots, type SnapshotDefinition } from '../core/index.js';

export interface RecordedRequest {
  readonly path: string;
  /** The query string, without `?` ('' when none). */
  readonly query: string;
  readonly headers: IncomingHttpHeaders;
  readonly at: number;
}

/** Takes over a request; return false to let the default protocol behaviour answer it. */
export type Handler = (request: IncomingMessage, response: ServerResponse, server: ProtocolServer) => boolean | void;

export const STREAM = '/sdk/v1/stream';
export const SNAPSHOT = '/sdk/v1/snapshot';
export const METRICS = '/sdk/v1/metrics';
export const REPORT_STREAM = '/sdk/v1/metrics/stream';

export class ProtocolServer {
  readonly requests: RecordedRequest[] = [];
  /** Open stream responses. */
  readonly streams = new Set<ServerResponse>();
  /** Overrides per path (STREAM / SNAPSHOT); null for the default behaviour. */
  streamHandler: Handler | null = null;
  snapshotHandler: Handler | null = null;
  /** Usage reports received (POST METRICS bodies, parsed), oldest first; the default answer is 202. */
  readonly reports: unknown[] = [];
  metricsHandler: Handler | null = null;
  /**
   * Answers accepted reports with `switchyard-compact-outcomes: 1`, as the service does since it
   * reads the compact outcome form (docs/outcomes.md); false (the default): an older service.
   */
  readsCompactOutcomes = false;
  /**
   * Names the report stream (REPORT_STREAM) in the 202s of accepted reports, as the service does
   * since it takes reports as lines of one request (PROTOCOL.md); false (the default): an older one.
   */
  offersReportStream = false;
  /** Overrides the report stream (REPORT_STREAM); null: lines read into `reports`, each answered 202. */
  reportStreamHandler: Handler | null = null;
  /** Open report streams' responses (`endReportStreams` ends them cleanly). */
  readonly reportStreams = new Set<ServerResponse>();

  private server: Server | null = null;
  private port = 0;

  private constructor(public snapshot: SnapshotDefinition) {}

  /** Starts a server holding `snapshot`, on `port` (0: any free port). */
  static async start(snapshot: SnapshotDefinition, port = 0): Promise<ProtocolServer> {
    const peer = new ProtocolServer(snapshot);
    await peer.listen(port);
    return peer;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.server !== null;
  }

  requestsTo(path: string): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path);
  }

  /** (Re)starts listening, on the same port as before when there was one. */
  async listen(port = this.port): Promise<void> {
    const server = createServer((request, response) => this.handle(request, response));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every connection (the service going down). State is kept for `listen()`. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === null) return;
    this.server = null;
    this.dropStreams();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Makes `snapshot` current and sends it to every open stream. */
  publish(snapshot: SnapshotDefinition): void {
    this.snapshot = snapshot;
    this.broadcast(snapshotEvent(snapshot));
  }

  /** Makes `snapshot` current and sends the change from the previous one as a `delta` event to every open stream. */
  publishDelta(snapshot: SnapshotDefinition): void {
    const base = this.snapshot;
    this.snapshot = snapshot;
    this.broadcast(deltaEvent(base, snapshot));
  }

  /** Sends a heartbeat (by default announcing the current revision) to every open stream. */
  heartbeat(revision: number = this.snapshot.revision): void {
    this.broadcast(`event: heartbeat\ndata: {"revision":${revision}}\n\n`);
  }

  /** Writes raw event-stream text to every open stream. */
  broadcast(text: string): void {
    for (const stream of this.streams) stream.write(text);
  }

  /** Destroys the connection of every open stream (a crash, a network cut). */
  dropStreams(): void {
    for (const stream of this.streams) stream.socket?.destroy();
    this.streams.clear();
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const [path = '', query = ''] = (request.url ?? '').split('?');
    this.requests.push({ path, query, headers: request.headers, at: Date.now() });
    if (path === STREAM) {
      if (this.streamHandler?.(request, response, this) === true) return;
      this.openStream(request, response);
    } else if (path === SNAPSHOT) {
      if (this.snapshotHandler?.(request, response, this) === true) return;
      this.serveSnapshot(request, response);
    } else if (path === REPORT_STREAM && request.method === 'POST') {
      if (this.reportStreamHandler?.(request, response, this) === true) return;
      this.openReportStream(request, response);
    } else if (path === METRICS && request.method === 'POST') {
      if (this.metricsHandler?.(request, response, this) === true) return;
      this.acceptReport(request, response);
    } else {
      respondStatus(404)(request, response, this);
    }
  }

  /** The protocol's stream: retry hint, the snapshot unless Last-Event-ID is current, then whatever is published. */
  openStream(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.write('retry: 1000\n\n');
    if (request.headers['last-event-id'] !== String(this.snapshot.revision)) response.write(snapshotEvent(this.snapshot));
    this.register(response);
  }

  /** Tracks an open stream response so that publish / heartbeat / dropStreams reach it. */
  register(response: ServerResponse): void {
    this.streams.add(response);
    response.on('close', () => this.streams.delete(response));
  }

  /** Reads a usage report into `reports` and answers 202, as the service does. */
  private acceptReport(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        this.reports.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        response.writeHead(202, this.acceptedHeaders()).end();
      } catch {
        respondStatus(400, 'INVALID_INPUT')(request, response, this);
      }
    });
  }

  /** What the service says with a report taken: the forms it reads. */
  acceptedHeaders(): Record<string, string> {
    return { ...(this.readsCompactOutcomes ? { 'switchyard-compact-outcomes': '1' } : {}), ...(this.offersReportStream ? { 'switchyard-report-stream': REPORT_STREAM } : {}) };
  }

  /** The report stream as the service answers it: 200 at once, then each line read into `reports` and answered `{"status":202}` (400 when not JSON). */
  openReportStream(request: IncomingMessage, response: ServerResponse): void {
    response.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', ...this.acceptedHeaders() });
    response.flushHeaders();
    this.reportStreams.add(response);
    response.on('close', () => this.reportStreams.delete(response));
    readLines(request, (line) => {
      if (response.writableEnded) return;
      try {
        this.reports.push(JSON.parse(line));
        response.write('{"status":202}\n');
      } catch {
        response.write(`${JSON.stringify({ status: 400, errors: [{ message: 'not JSON', extensions: { code: 'BAD_USER_INPUT', errorCode: 'INVALID_INPUT' } }] })}\n`);
      }
    });
    request.on('end', () => response.end());
  }

  /** Ends every open report stream cleanly (its lifetime over, a shutdown): lines read after that are not taken. */
  endReportStreams(): void {
    for (const response of this.reportStreams) response.end();
    this.reportStreams.clear();
  }

  private serveSnapshot(request: IncomingMessage, response: ServerResponse): void {
    const etag = `"${this.snapshot.revision}"`;
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, { etag }).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/json', etag, 'cache-control': 'no-cache' }).end(JSON.stringify(this.snapshot));
  }
}

/** The `snapshot` event for a snapshot, as the protocol sends it. */
export function snapshotEvent(snapshot: SnapshotDefinition): string {
  return `event: snapshot\nid: ${snapshot.revision}\ndata: ${JSON.stringify(snapshot)}\n\n`;
}

/** The `delta` event from `base` to `next`, as the protocol sends it. */
export function deltaEvent(base: SnapshotDefinition, next: SnapshotDefinition): string {
  return `event: delta\nid: ${next.revision}\ndata: ${JSON.stringify(diffSnapshots(base, next))}\n\n`;
}

/** A handler answering `status` with the service's error body. */
export function respondStatus(status: number, code = `HTTP_${status}`): Handler {
  return (_request, response) => {
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ message: `status ${status}`, extensions: { code, errorCode: code } }] }));
    return true;
  };
}

/** Calls `onLine` with every non-blank line of `request`'s body, as it arrives (the last one may lack its newline). */
export function readLines(request: IncomingMessage, onLine: (line: string) => void): void {
  let pending = '';
  request.setEncoding('utf8');
  request.on('data', (text: string) => {
    pending += text;
    for (let newline = pending.indexOf('\n'); newline !== -1; newline = pending.indexOf('\n')) {
      const line = pending.slice(0, newline).trim();
      pending = pending.slice(newline + 1);
      if (line !== '') onLine(line);
    }
  });
  request.on('end', () => {
    if (pending.trim() !== '') onLine(pending.trim());
  });
}
