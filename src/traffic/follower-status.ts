/**
 * Where a follower of a slice stands (GraphQL `FollowerStatus`, `switchyard who-follows`). Pure.
 *
 *  - GONE: it said goodbye (a usage report with `"final": true`, which the SDK sends as it closes)
 *    and nothing since, or it has not been heard from for GONE_AFTER_INTERVALS of its report
 *    intervals (a crash, a host taken away, a network cut). It no longer decides anything, so
 *    whether it holds the slice's last change does not matter: a gone instance is never BEHIND.
 *  - UP_TO_DATE: it holds the revision at which the slice's decisions last changed, or a later one.
 *  - BEHIND: it is heard from, and holds an older revision (or none).
 *
 * Why three intervals: an instance reports every interval, and a report may be lost or late (the
 * SDK keeps counts and sends them with the next one, a report waits up to 10 s for an answer, the
 * service writes reports in batches every few seconds). Two missed reports in a row happen; three
 * mean it is gone, or cannot reach the service, which for a release manager comes to the same.
 *
 * The interval is what the instance said (our SDK's `metricsIntervalMs` in its reports, an Unleash
 * SDK's `interval` in its registration), else the SDKs' default, 60 s. It is bounded so that an
 * instance cannot make itself GONE at once (a 1 ms interval) or never (a year).
 */

export type FollowerStatus = 'UP_TO_DATE' | 'BEHIND' | 'GONE';

/** Our SDK's and the Unleash SDKs' default metrics interval: assumed when an instance does not say. */
export const DEFAULT_REPORT_INTERVAL_MS = 60_000;
export const GONE_AFTER_INTERVALS = 3;
/** The interval an instance's claim is bounded to: 1 s (the SDK's early report comes within 5 s anyway) to 1 day. */
export const MIN_REPORT_INTERVAL_MS = 1_000;
export const MAX_REPORT_INTERVAL_MS = 24 * 60 * 60_000;

export interface FollowerFacts {
  /** The revision it holds (was served); null: none known. */
  readonly revision: number | null;
  /** When the service last heard from it, epoch ms. */
  readonly lastSeenAt: number;
  /** When it said goodbye, if that is the last thing heard from it; null otherwise. */
  readonly closedAt: number | null;
  /** How often it said it reports; null: it did not say. */
  readonly reportIntervalMs: number | null;
}

/** The interval the status is computed with: the instance's claim, bounded, or the default. */
export function reportIntervalOf(claimedMs: number | null): number {
  if (claimedMs === null) return DEFAULT_REPORT_INTERVAL_MS;
  return Math.min(Math.max(claimedMs, MIN_REPORT_INTERVAL_MS), MAX_REPORT_INTERVAL_MS);
}

/** The follower's status at `now` (epoch ms), for a slice whose decisions last changed at revision `changedAt`. */
export function followerStatus(f: FollowerFacts, changedAt: number, now: number): FollowerStatus {
  if (f.closedAt !== null) return 'GONE';
  if (now - f.lastSeenAt > GONE_AFTER_INTERVALS * reportIntervalOf(f.reportIntervalMs)) return 'GONE';
  return f.revision !== null && f.revision >= changedAt ? 'UP_TO_DATE' : 'BEHIND';
}
