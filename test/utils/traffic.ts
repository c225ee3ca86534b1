import type { INestApplication } from '@nestjs/common';
import { SnapshotService } from '../../src/delivery/snapshot.service.js';
import type { DataSource } from 'typeorm';
import { InstanceEvidenceService } from '../../src/traffic/instance-evidence.service.js';
import { TrafficIngestService } from '../../src/traffic/traffic-ingest.service.js';
import type { SliceFollower as FollowerView } from '../../src/cli/commands/who-follows.command.js';
import type { GraphqlClient } from './graphql-client.js';

/** GraphQL reads of Slice.traffic / followers / changedAtRevision (docs/traffic.md), shared by the traffic e2e tests. */

export interface TotalsView {
  new: number;
  legacy: number;
  total: number;
  newShare: number | null;
}

export type { FollowerView };

export interface TrafficView {
  changedAtRevision: number;
  traffic: {
    last5Minutes: TotalsView;
    lastHour: TotalsView;
    last24Hours: TotalsView;
    buckets: { start: string; new: number; legacy: number }[];
    byApp: { appName: string; new: number; legacy: number }[];
  };
  followers: FollowerView[];
}

export type PathCounts = { NEW: number; LEGACY: number };

/**
 * A usage report as the SDK POSTs it to /sdk/v1/metrics (client-sdk/PROTOCOL.md), covering the
 * `spanMs` before now; `more` overrides or adds fields (revision, syncedAt...).
 */
export function sdkReportBody(appName: string, instanceId: string, slices: Record<string, PathCounts>, spanMs = 10_000, more: Record<string, unknown> = {}) {
  const stop = new Date();
  return {
    appName,
    instanceId,
    sdkName: 'switchyard-node',
    sdkVersion: '0.1.0',
    revision: null,
    syncedAt: null,
    bucket: { start: new Date(stop.getTime() - spanMs).toISOString(), stop: stop.toISOString(), slices },
    ...more,
  };
}

const TOTALS = 'new legacy total newShare';
const TRAFFIC_QUERY = `query($key: String!, $minutes: Int! = 5, $within: Int! = 1440) { slice(key: $key) {
  changedAtRevision
  traffic { last5Minutes { ${TOTALS} } lastHour { ${TOTALS} } last24Hours { ${TOTALS} }
            buckets(minutes: $minutes) { start new legacy } byApp(minutes: $minutes) { appName new legacy } }
  followers(withinMinutes: $within) { appName instanceId protocol sdkName sdkVersion revision lastSyncedAt lastSeenAt upToDate status closedAt reportIntervalMs } } }`;

/** Everything the API shows about a slice's traffic (`minutes` for buckets and byApp, `within` for followers). */
export async function readTraffic(client: GraphqlClient, key: string, vars: { minutes?: number; within?: number } = {}): Promise<TrafficView> {
  return (await client.ok<{ slice: TrafficView }>(TRAFFIC_QUERY, { key, ...vars })).slice;
}

/** Reads until `done` holds (every 50 ms), or fails with the last value after `timeoutMs`. */
export async function readUntil<T>(read: () => T | Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Waits until the service serves a snapshot with slice `key`: reports count only the slices of the
 * snapshot the receiving instance serves (KnownSlices), which follows a commit within milliseconds
 * but not synchronously. A test that reports right after creating a slice waits for this first.
 */
export async function sliceServed(app: INestApplication, key: string): Promise<void> {
  const snapshots = app.get(SnapshotService);
  await readUntil(() => snapshots.current()?.definition.slices.some((s) => s.key === key) ?? false, Boolean, `slice ${key} in the served snapshot`, 10_000);
}

/**
 * POSTs one usage report to the real endpoint as an SDK would (expects 202), then flushes the
 * ingest buffer and the per-instance figures so that both are in the database when it resolves.
 */
export async function postSdkReport(app: INestApplication, baseUrl: string, sdkToken: string, body: unknown): Promise<void> {
  const res = await fetch(`${baseUrl}/sdk/v1/metrics`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${sdkToken}` },
    body: JSON.stringify(body),
  });
  expect(res.status).toBe(202);
  await flushTraffic(app);
}

/**
 * Writes what the service holds of the reports taken so far. A write can fail on a loaded machine
 * (a statement that outlives its bound): the service then keeps the batch for its next flush, and
 * so flushes again here, so that what a test reads next includes its report.
 */
export async function flushTraffic(app: INestApplication): Promise<void> {
  const ingest = app.get(TrafficIngestService);
  const instances = app.get(InstanceEvidenceService);
  for (let attempt = 1; ; attempt++) {
    const failed = ingest.stats().failedFlushes;
    await ingest.flush();
    await instances.flush();
    if ((ingest.stats().failedFlushes === failed && instances.stats().held === 0) || attempt === 10) return;
  }
}

/**
 * Waits until the served snapshot marks slice `key` watched if the database does (a plan that
 * started a moment ago): per-instance figures are kept for the slices the served snapshot marks
 * watched, so a test that reports right after starting a plan waits for this first.
 */
export async function watchedAsStored(app: INestApplication, dataSource: DataSource, key: string): Promise<void> {
  const rows = await dataSource.query<{ watched: boolean }[]>('SELECT watched FROM slices WHERE key = $1', [key]);
  if (rows[0]?.watched !== true) return;
  const snapshots = app.get(SnapshotService);
  await readUntil(
    () => snapshots.current()?.definition.slices.some((s) => s.key === key && s.watched === true) ?? false,
    Boolean,
    `slice ${key} watched in the served snapshot`,
    10_000,
  );
}

/**
 * Report bodies, honest and hostile, for the tests that check two ways of taking a report answer
 * alike (sdk-metrics-fast-path: the fast path and Express; sdk-report-stream: a line and a POST).
 * `key()` is a served slice (read when a body is made); `maxBodyBytes` the service's body limit. `line: false` for the bodies that
 * cannot be a line of the report stream (a blank line is a keep-alive; a line over the limit ends it).
 */
export function reportBodyCases(appName: string, key: () => string, maxBodyBytes: number): { name: string; body: () => Buffer; line: boolean }[] {
  const now = () => new Date().toISOString();
  const json = (value: unknown) => Buffer.from(JSON.stringify(value));
  return [
    { name: 'an honest report', body: () => json(sdkReportBody(appName, 'i-1', { [key()]: { NEW: 1, LEGACY: 2 } })), line: true },
    { name: 'an empty body', body: () => Buffer.alloc(0), line: false },
    { name: 'malformed JSON', body: () => Buffer.from('{"appName":'), line: true },
    { name: 'a bare string', body: () => Buffer.from('"report"'), line: true },
    { name: 'an array', body: () => Buffer.from('[]'), line: true },
    { name: 'an empty object', body: () => Buffer.from('{}'), line: true },
    {
      name: 'a report of the wrong shape',
      body: () => json({ appName: 'a', instanceId: 'i', bucket: { start: now(), stop: now(), slices: { [key()]: { NEW: -1, LEGACY: 0 } } } }),
      line: true,
    },
    { name: 'an escaped NUL in the app name', body: () => json(sdkReportBody('a\u0000', 'i-1', {})), line: true },
    { name: 'a lone surrogate in a slice key', body: () => json(sdkReportBody('a', 'i-1', { 'k\ud800': { NEW: 1, LEGACY: 0 } })), line: true },
    {
      name: 'bytes that are not UTF-8',
      body: () => {
        const body = json(sdkReportBody('xx', 'i-1', {}));
        body[body.indexOf('xx')] = 0xff;
        return body;
      },
      line: true,
    },
    { name: 'a body over the limit', body: () => json(sdkReportBody('a'.repeat(maxBodyBytes), 'i-1', {})), line: false },
    { name: 'implausible counts', body: () => json(sdkReportBody(appName, 'i-2', { [key()]: { NEW: 2 ** 50, LEGACY: 0 } }, 1000)), line: true },
  ];
}
