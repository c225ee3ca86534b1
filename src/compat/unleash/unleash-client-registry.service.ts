import type { IncomingMessage } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../../common/scheduling/clock.js';
import { InvalidInputException } from '../../common/errors/switchyard.exception.js';
import { type TrafficSource, TrafficIngestService } from '../../traffic/traffic-ingest.service.js';
import { splitSdkHeader } from '../../traffic/traffic-report.js';
import { type ClientMetrics, type ClientRegistration, type Parsed, parseMetrics, parseRegistration } from './unleash-client-payloads.js';
import { declaredSpec } from './unleash-constraints.js';

/**
 * The identity headers every Unleash SDK request carries (unleash-client request.js
 * `buildHeaders`), and the name of the token it was authenticated with: the limits on instances
 * and buffer room are per token as well as per app (docs/traffic.md).
 */
export interface ClientHeaders {
  readonly appName: string | undefined;
  readonly instanceId: string | undefined;
  readonly sdk: string | undefined;
  /** `Unleash-Client-Spec`, as sent (see declaredSpec). */
  readonly clientSpec: string | undefined;
  readonly token: string;
}

/** The identity headers of an Unleash SDK request authenticated with the token named `token`. */
export function clientHeaders(req: IncomingMessage, token: string): ClientHeaders {
  const one = (name: string): string | undefined => {
    const value = req.headers[name];
    return typeof value === 'string' ? value : undefined;
  };
  return { appName: one('unleash-appname'), instanceId: one('unleash-instanceid'), sdk: one('unleash-sdk'), clientSpec: one('unleash-client-spec'), token };
}

/** A client polling the same revision is recorded at most once a second (see recordServed). */
const SERVED_EVERY_MS = 1_000;
const MAX_REMEMBERED_CLIENTS = 50_000;

/**
 * What Unleash SDKs tell the service, fed to the traffic aggregation that our own SDK's reports
 * feed (src/traffic, docs/traffic.md), as instances of protocol UNLEASH:
 *  - `/api/client/metrics`: each toggle's yes / no counts become NEW / LEGACY decisions of the
 *    slice of that name, and the instance a follower of it;
 *  - `/api/client/register`: the instance and its SDK (the `unleash-sdk` header, e.g.
 *    `unleash-node-sdk:6.12.1`, else the body's sdkVersion);
 *  - a features response or stream event: the revision it now holds and when (Unleash SDKs do not
 *    say which they hold; what we served them is the best we know), and the client specification
 *    it declared (which form of each slice it was served: Slice.followers shows it).
 * Nothing is kept here: recording is a buffered write (TrafficIngestService), never a wait.
 */
@Injectable()
export class UnleashClientRegistry {
  /** When each client (token, app, instance, spec, SDK) was last recorded as served, and which revision. */
  private readonly lastServed = new Map<string, { revision: number; at: number }>();

  constructor(
    private readonly traffic: TrafficIngestService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** The body of POST /api/client/register. Throws INVALID_INPUT (400) for a body of the wrong shape. */
  receiveRegistration(body: unknown, headers: ClientHeaders, at: Date = this.clock.now()): void {
    const registration = this.orRefuse('unleash_register', false, parseRegistration(body, headers.instanceId));
    this.recordRegistration(registration, headers, at);
  }

  /** The body of POST /api/client/metrics. Throws INVALID_INPUT (400) for a body of the wrong shape. */
  receiveMetrics(body: unknown, headers: ClientHeaders, at: Date = this.clock.now()): void {
    const metrics = this.orRefuse('unleash_metrics', true, parseMetrics(body, headers.instanceId));
    this.recordMetrics(metrics, headers, at);
  }

  recordRegistration(registration: ClientRegistration, headers: ClientHeaders, at: Date = this.clock.now()): void {
    this.traffic.recordUnleashInstance(
      'unleash_register',
      { appName: registration.appName, instanceId: registration.instanceId },
      // An interval of 0 is "no metrics" in some SDKs: then it is not how often it is heard from.
      { ...splitSdkHeader(headers.sdk ?? registration.sdkVersion), reportIntervalMs: registration.interval || null },
      null,
      headers.token,
      at.getTime(),
    );
  }

  recordMetrics(metrics: ClientMetrics, headers: ClientHeaders, at: Date = this.clock.now()): void {
    this.traffic.recordUnleashMetrics(
      { appName: metrics.appName, instanceId: metrics.instanceId },
      splitSdkHeader(headers.sdk),
      { start: Date.parse(metrics.bucket.start), stop: Date.parse(metrics.bucket.stop), toggles: metrics.bucket.toggles },
      headers.token,
      at.getTime(),
    );
  }

  /**
   * A features response or stream was served to the SDK named by these headers (ignored without an
   * app name). The same client served the same revision again within SERVED_EVERY_MS is not
   * recorded again: what it adds (a later "last seen" within the second) the follower view does not
   * need, and recording is most of a 304's cost on the fast path (npm run bench:delivery).
   */
  recordServed(headers: ClientHeaders, revision: number, at: Date = this.clock.now()): void {
    const appName = headers.appName?.trim();
    if (!appName) return;
    const instanceId = headers.instanceId?.trim() || 'default';
    const ms = at.getTime();
    const client = `${headers.token}\0${appName}\0${instanceId}\0${headers.clientSpec ?? ''}\0${headers.sdk ?? ''}`;
    const last = this.lastServed.get(client);
    if (last !== undefined && last.revision === revision && ms >= last.at && ms - last.at < SERVED_EVERY_MS) return;
    // Bounded whatever clients claim to be: forgetting them all costs one extra record each.
    if (this.lastServed.size >= MAX_REMEMBERED_CLIENTS) this.lastServed.clear();
    this.lastServed.set(client, { revision, at: ms });
    const served = { revision, at: ms, clientSpec: declaredSpec(headers.clientSpec) };
    this.traffic.recordUnleashInstance('unleash_served', { appName, instanceId }, splitSdkHeader(headers.sdk), served, headers.token, ms);
  }

  private orRefuse<T>(source: TrafficSource, carriesCounts: boolean, parsed: Parsed<T>): T {
    if (parsed.ok) return parsed.value;
    this.traffic.countRefused(source, 'invalid', carriesCounts);
    throw new InvalidInputException(parsed.violations);
  }
}
