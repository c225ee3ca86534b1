import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Injectable } from '@nestjs/common';
import { Counter, Histogram } from 'prom-client';
import { requestPath } from '../common/http/request-path.js';
import { LATENCY_BUCKETS, MetricsService } from './metrics.service.js';

/** The two SDK streaming protocols, as the `protocol` label. */
export type StreamProtocol = 'switchyard' | 'unleash';
/** A route whose request lasts as its connection does, counted when its answer starts and not timed: a stream, or an upload (the SDK's report stream). */
type LongRoute = StreamProtocol | 'upload';
export const STREAM_PROTOCOLS: readonly StreamProtocol[] = ['switchyard', 'unleash'];

/**
 * Every path the service answers, as the `route` label (null, or the protocol of a stream). A
 * fixed list, never the URL itself: each label value is a series that Prometheus and this process
 * keep, so a client sending random URLs must not be able to create series. Anything else is
 * `other`. Adding an endpoint: list it here (test/e2e/metrics.e2e.spec.ts fails when an Express
 * route is missing).
 */
export const ROUTES: ReadonlyMap<string, LongRoute | null> = new Map<string, LongRoute | null>([
  ['/graphql', null],
  ['/sdk/v1/snapshot', null],
  ['/sdk/v1/stream', 'switchyard'],
  ['/sdk/v1/metrics', null],
  ['/sdk/v1/metrics/stream', 'upload'],
  ['/api/client/features', null],
  ['/api/client/streaming', 'unleash'],
  ['/api/client/register', null],
  ['/api/client/metrics', null],
  ['/health/live', null],
  ['/health/ready', null],
  ['/metrics', null],
  // The console: its page and sign-in (its files, /console/<file>, are counted as `other`).
  ['/', null],
  ['/console', null],
  ['/console/', null],
  ['/console/session', null],
]);

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const OTHER = 'other';
/** The `status` of a request whose client went away before any response was written. */
const ABORTED = 'aborted';

/**
 * Counts and times every HTTP request, on the Node server itself: SDK delivery is answered before
 * Express (DeliveryHttpHandler), so no Express middleware would see it. Runs on the hot path (the
 * snapshot endpoint serves thousands of requests a second): a map lookup, a timestamp and one
 * 'close' listener per request, an increment and an observation at the end.
 *
 * Streams (SDK and Unleash SSE) and the SDK's report stream (an upload) last as long as their
 * connection: they are counted when their response starts (its status known), never timed, and a
 * stream's 200 counts as a stream opened.
 */
@Injectable()
export class HttpMetrics {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;
  private readonly streamsOpened: Counter<'protocol'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.requests = new Counter({
      name: 'switchyard_http_requests_total',
      help: 'HTTP requests answered, by method, route (a known path, else "other") and status code ("aborted": the client left before any response). Streams count when they start.',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'switchyard_http_request_duration_seconds',
      help: 'Time from receiving an HTTP request to the end of its response, by method, route and status code. Streaming routes are not timed.',
      labelNames: ['method', 'route', 'status'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.streamsOpened = new Counter({
      name: 'switchyard_sdk_streams_opened_total',
      help: 'SDK streams opened (answered 200), by protocol: "switchyard" (/sdk/v1/stream) or "unleash" (/api/client/streaming).',
      labelNames: ['protocol'],
      registers,
    });
    for (const protocol of STREAM_PROTOCOLS) this.streamsOpened.inc({ protocol }, 0);
  }

  /**
   * Puts the instrumentation first among the server's request listeners. Call after
   * DeliveryHttpHandler.install, which replaces the listeners it finds.
   */
  install(server: Server): void {
    server.prependListener('request', (req: IncomingMessage, res: ServerResponse) => this.track(req, res));
  }

  private track(req: IncomingMessage, res: ServerResponse): void {
    const start = performance.now();
    const method = req.method !== undefined && METHODS.has(req.method) ? req.method : OTHER;
    // Runs before DeliveryHttpHandler merges doubled slashes in req.url: merged here alike.
    const path = requestPath(req.url);
    const protocol = ROUTES.get(path);
    if (protocol === undefined) {
      res.on('close', () => this.finished(res, method, OTHER, start));
    } else if (protocol === null) {
      res.on('close', () => this.finished(res, method, path, start));
    } else {
      this.trackStream(res, method, path, protocol);
    }
  }

  private finished(res: ServerResponse, method: string, route: string, start: number): void {
    const labels = { method, route, status: res.headersSent ? String(res.statusCode) : ABORTED };
    this.requests.inc(labels);
    this.duration.observe(labels, (performance.now() - start) / 1000);
  }

  /**
   * A stream's status is known when its head is written, long before the response ends: the
   * response's own writeHead (which Node's implicit head and Express's send call too) is wrapped,
   * once, for these routes only.
   */
  private trackStream(res: ServerResponse, method: string, route: string, protocol: LongRoute): void {
    // Unbound on purpose: put back as it was, and called on `res` below.
    // eslint-disable-next-line @typescript-eslint/unbound-method -- see above
    const writeHead = res.writeHead as (this: ServerResponse, ...args: unknown[]) => ServerResponse;
    res.writeHead = (statusCode: number, ...rest: unknown[]) => {
      res.writeHead = writeHead;
      this.requests.inc({ method, route, status: String(statusCode) });
      if (statusCode === 200 && protocol !== 'upload') this.streamsOpened.inc({ protocol });
      return writeHead.call(res, statusCode, ...rest);
    };
    res.on('close', () => {
      if (!res.headersSent) this.requests.inc({ method, route, status: ABORTED });
    });
  }
}
