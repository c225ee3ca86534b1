import { Injectable } from '@nestjs/common';
import type { ClientMetrics, ClientRegistration } from './unleash-client-payloads.js';

/** What this instance last heard from one Unleash SDK instance. */
export interface UnleashClientRecord {
  readonly appName: string;
  readonly instanceId: string;
  /** From the `unleash-sdk` header (e.g. `unleash-node-sdk:6.12.1`) or the registration body. */
  readonly sdk: string | null;
  readonly registration: ClientRegistration | null;
  readonly registeredAt: Date | null;
  readonly lastMetrics: ClientMetrics | null;
  readonly lastMetricsAt: Date | null;
  /** The revision last served to it (features or stream), and when. */
  readonly lastServedRevision: number | null;
  readonly lastServedAt: Date | null;
  readonly lastSeenAt: Date;
}

/** The identity headers every Unleash SDK request carries (unleash-client request.js `buildHeaders`). */
export interface ClientHeaders {
  readonly appName: string | undefined;
  readonly instanceId: string | undefined;
  readonly sdk: string | undefined;
}

/** Bounded memory: the least recently seen SDK instances are forgotten first. */
const MAX_CLIENTS = 10_000;

/**
 * In-memory, per instance of the service, last-seen state of the Unleash SDKs that talk to it:
 * registrations, the last metrics report, the last revision served. Nothing is stored yet: the
 * "traffic seen by the services" part of issue 5 will persist and aggregate these (and our own
 * SDK's counts) per slice, path and app; it reads them from here (`list`, `get`) or replaces
 * `recordMetrics` with its own sink.
 */
@Injectable()
export class UnleashClientRegistry {
  private readonly clients = new Map<string, UnleashClientRecord>();

  recordRegistration(registration: ClientRegistration, sdk: string | undefined, at: Date = new Date()): void {
    this.update(registration.appName, registration.instanceId, at, (r) => ({
      ...r,
      sdk: sdk ?? (registration.sdkVersion !== null ? registration.sdkVersion : r.sdk),
      registration,
      registeredAt: at,
    }));
  }

  recordMetrics(metrics: ClientMetrics, sdk: string | undefined, at: Date = new Date()): void {
    this.update(metrics.appName, metrics.instanceId, at, (r) => ({ ...r, sdk: sdk ?? r.sdk, lastMetrics: metrics, lastMetricsAt: at }));
  }

  /** A features response or stream was served to the SDK named by these headers (ignored without an app name). */
  recordServed(headers: ClientHeaders, revision: number, at: Date = new Date()): void {
    const appName = headers.appName?.trim();
    if (!appName || appName.length > 256) return;
    const instanceId = headers.instanceId?.trim().slice(0, 256) || 'default';
    this.update(appName, instanceId, at, (r) => ({ ...r, sdk: headers.sdk?.slice(0, 256) ?? r.sdk, lastServedRevision: revision, lastServedAt: at }));
  }

  get(appName: string, instanceId: string): UnleashClientRecord | undefined {
    return this.clients.get(keyOf(appName, instanceId));
  }

  /** Most recently seen first. */
  list(): UnleashClientRecord[] {
    return [...this.clients.values()].reverse();
  }

  private update(appName: string, instanceId: string, at: Date, change: (record: UnleashClientRecord) => UnleashClientRecord): void {
    const key = keyOf(appName, instanceId);
    const existing = this.clients.get(key) ?? {
      appName,
      instanceId,
      sdk: null,
      registration: null,
      registeredAt: null,
      lastMetrics: null,
      lastMetricsAt: null,
      lastServedRevision: null,
      lastServedAt: null,
      lastSeenAt: at,
    };
    // Re-inserted so that Map order is least recently seen first.
    this.clients.delete(key);
    this.clients.set(key, { ...change(existing), lastSeenAt: at });
    if (this.clients.size > MAX_CLIENTS) this.clients.delete(this.clients.keys().next().value!);
  }
}

function keyOf(appName: string, instanceId: string): string {
  return JSON.stringify([appName, instanceId]);
}
