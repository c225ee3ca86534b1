import { Injectable } from '@nestjs/common';
import { TrafficIngestService } from '../../traffic/traffic-ingest.service.js';
import { splitSdkHeader } from '../../traffic/traffic-report.js';
import type { ClientMetrics, ClientRegistration } from './unleash-client-payloads.js';

/** The identity headers every Unleash SDK request carries (unleash-client request.js `buildHeaders`). */
export interface ClientHeaders {
  readonly appName: string | undefined;
  readonly instanceId: string | undefined;
  readonly sdk: string | undefined;
}

/**
 * What Unleash SDKs tell the service, fed to the traffic aggregation that our own SDK's reports
 * feed (src/traffic, docs/traffic.md), as instances of protocol UNLEASH:
 *  - `/api/client/metrics`: each toggle's yes / no counts become NEW / LEGACY decisions of the
 *    slice of that name, and the instance a follower of it;
 *  - `/api/client/register`: the instance and its SDK (the `unleash-sdk` header, e.g.
 *    `unleash-node-sdk:6.12.1`, else the body's sdkVersion);
 *  - a features response or stream event: the revision it now holds and when (Unleash SDKs do not
 *    say which they hold; what we served them is the best we know).
 * Nothing is kept here: recording is a buffered write (TrafficIngestService), never a wait.
 */
@Injectable()
export class UnleashClientRegistry {
  constructor(private readonly traffic: TrafficIngestService) {}

  recordRegistration(registration: ClientRegistration, sdk: string | undefined, at: Date = new Date()): void {
    this.traffic.recordUnleashInstance(
      { appName: registration.appName, instanceId: registration.instanceId },
      splitSdkHeader(sdk ?? registration.sdkVersion),
      null,
      at.getTime(),
    );
  }

  recordMetrics(metrics: ClientMetrics, sdk: string | undefined, at: Date = new Date()): void {
    this.traffic.recordUnleashMetrics(
      { appName: metrics.appName, instanceId: metrics.instanceId },
      splitSdkHeader(sdk),
      { start: Date.parse(metrics.bucket.start), stop: Date.parse(metrics.bucket.stop), toggles: metrics.bucket.toggles },
      at.getTime(),
    );
  }

  /** A features response or stream was served to the SDK named by these headers (ignored without an app name). */
  recordServed(headers: ClientHeaders, revision: number, at: Date = new Date()): void {
    const appName = headers.appName?.trim();
    if (!appName) return;
    const instanceId = headers.instanceId?.trim() || 'default';
    const ms = at.getTime();
    this.traffic.recordUnleashInstance({ appName, instanceId }, splitSdkHeader(headers.sdk), { revision, at: ms }, ms);
  }
}
