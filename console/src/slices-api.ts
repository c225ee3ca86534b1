import { allNodes, graphql, graphqlQuery, idempotencyKey, type Page } from './api.js';

export type SliceState = 'ACTIVE' | 'ROLLED_BACK' | 'ARCHIVED';

export interface SliceRow {
  readonly key: string;
  readonly description: string;
  readonly owner: string;
  readonly state: SliceState;
  readonly percent: number;
  readonly version: number;
  readonly tags: readonly string[];
  readonly updatedAt: string;
  readonly targeting: { readonly include: readonly string[]; readonly exclude: readonly string[]; readonly rules: readonly { percent: number; segments: string[] }[] };
  readonly traffic: { readonly last5Minutes: { readonly newShare: number | null; readonly total: number } };
}

const SLICE_FIELDS = `key description owner state percent version tags updatedAt
  targeting { include exclude rules { percent segments } }
  traffic { last5Minutes { newShare total } }`;

/** What the list shows of a slice besides its configuration: traffic, followers behind, the last change. */
export interface SliceStats {
  readonly traffic: SliceRow['traffic'];
  /** How many of its followers (last hour) hold an older revision than its last change. */
  readonly behind: number;
  /** The configuration revision at which its decisions last changed: the list is current for every revision up to the largest. */
  readonly changedAtRevision: number;
  /** Who made the newest change, and when (Slice.lastChange, batched like followers: one query a page). */
  readonly lastChange: { readonly actor: string; readonly recordedAt: string } | null;
}

/** A row of the list: a slice's configuration, and its stats once they have arrived. */
export type SliceListRow = SliceCore & { readonly stats: SliceStats | null };

// Only what the list shows and acts on: every field is work for the service on each of 1,000 rows
// (description, owner and version cost a page of 500 about a third more), so the slice page asks
// for the rest.
const LIST_FIELDS = `key state percent tags updatedAt targeting { include exclude rules { percent segments } }`;

/** A slice's configuration as the list shows it (its stats come apart, from listSliceStats). */
export type SliceCore = Pick<SliceRow, 'key' | 'state' | 'percent' | 'tags' | 'updatedAt' | 'targeting'>;

/**
 * One page of 500 slices' configuration, in key order, after `after` (null: the first page): what
 * the list needs to show rows and be searched, filtered and acted on. Cheap (one query a page), so
 * the list is usable at once; the costlier columns follow from listSliceStats. A GET: it may be
 * sent before the session (and its CSRF token) is known.
 */
export async function slicesPage(after: string | null): Promise<Page<SliceCore>> {
  return (
    await graphqlQuery<{ slices: Page<SliceCore> }>(
      `query ConsoleSlices($after: String) { slices(first: 500, after: $after) { nodes { ${LIST_FIELDS} } pageInfo { hasNextPage endCursor } } }`,
      { after },
    )
  ).slices;
}

/** Every slice's configuration, in key order. */
export async function listSlices(): Promise<SliceCore[]> {
  return allNodes(slicesPage);
}

type StatsNode = Omit<SliceStats, 'behind'> & { key: string; followers: { status: Follower['status'] }[] };

/**
 * Every slice's stats, 500 a page. Slice.followers, changedAtRevision and lastChange are each one
 * batched query per request whatever the number of slices, and a page of 500 with them costs
 * about 17,500 of the 20,000 SWITCHYARD_MAX_QUERY_COST allows (docs/console.md).
 */
export async function listSliceStats(): Promise<Map<string, SliceStats>> {
  const nodes = await allNodes(
    async (after) =>
      (
        await graphqlQuery<{ slices: Page<StatsNode> }>(
          `
            query ConsoleSliceStats($after: String) {
              slices(first: 500, after: $after) {
                nodes {
                  key
                  traffic {
                    last5Minutes {
                      newShare
                      total
                    }
                  }
                  changedAtRevision
                  lastChange {
                    actor
                    recordedAt
                  }
                  followers(withinMinutes: 60) {
                    status
                  }
                }
                pageInfo {
                  hasNextPage
                  endCursor
                }
              }
            }
          `,
          { after },
        )
      ).slices,
  );
  return new Map(nodes.map(({ key, followers, ...stats }) => [key, { ...stats, behind: followers.filter((f) => f.status === 'BEHIND').length }]));
}

export interface Follower {
  readonly appName: string;
  readonly instanceId: string;
  readonly revision: number | null;
  readonly status: 'UP_TO_DATE' | 'BEHIND' | 'GONE';
  readonly lastSeenAt: string;
  readonly servedForm: string | null;
}

export interface HistoryRow {
  readonly position: string;
  readonly action: string;
  readonly actor: string;
  readonly reason: string | null;
  readonly requestId: string | null;
  readonly recordedAt: string;
  readonly sliceKey: string | null;
  readonly segmentKey: string | null;
  readonly before: unknown;
  readonly after: unknown;
}

/** One freeze of a window (Slice.freeze): from null when it is on now. */
export interface FreezePeriod {
  readonly window: string;
  readonly timeZone: string;
  readonly from: string | null;
  readonly until: string;
}

export interface SliceDetail extends SliceRow {
  readonly stickinessAttribute: string;
  /** The freeze window on now that ends last, and the next to start (the service's clock). */
  readonly freeze: { readonly active: FreezePeriod | null; readonly next: FreezePeriod | null };
  readonly changedAtRevision: number;
  /** Segments rolled back on this slice (docs/segment-rollback.md), sorted. */
  readonly rolledBackSegments: readonly string[];
  readonly followers: readonly Follower[];
}

const HISTORY_FIELDS = 'position action actor reason requestId recordedAt sliceKey segmentKey before after';

export async function loadSlice(key: string): Promise<{ slice: SliceDetail; history: HistoryRow[] }> {
  const data = await graphql<{ slice: SliceDetail; history: { nodes: HistoryRow[] } }>(
    `query ConsoleSlice($key: String!) {
      slice(key: $key) { ${SLICE_FIELDS} stickinessAttribute changedAtRevision rolledBackSegments
        followers(withinMinutes: 60) { appName instanceId revision status lastSeenAt servedForm }
        freeze { active { window timeZone from until } next { window timeZone from until } } }
      history(sliceKey: $key, first: 50) { nodes { ${HISTORY_FIELDS} } }
    }`,
    { key },
  );
  return { slice: data.slice, history: data.history.nodes };
}

export async function rollback(key: string, reason: string): Promise<void> {
  await graphql(
    `
      mutation ConsoleRollback($key: String!, $reason: String!, $idem: String) {
        rollback(key: $key, reason: $reason, idempotencyKey: $idem) {
          key
          state
        }
      }
    `,
    {
      key,
      reason,
      idem: idempotencyKey(),
    },
  );
}

/** How many of the slice's recent decisions one segment it names covered (Slice.segmentCoverage). */
export interface SegmentCoverage {
  readonly segmentKey: string;
  readonly measured: boolean;
  readonly sampled: number;
  readonly inSegment: number;
  readonly share: number | null;
  readonly shareLow: number | null;
  readonly shareHigh: number | null;
  readonly decisions: number;
  readonly estimatedDecisions: number | null;
}

/** Per segment the slice names, over the last `minutes` (docs/segment-rollback.md, "Coverage"). */
export async function loadSegmentCoverage(key: string, minutes = 60): Promise<SegmentCoverage[]> {
  const data = await graphql<{ slice: { segmentCoverage: SegmentCoverage[] } | null }>(
    `
      query ConsoleSegmentCoverage($key: String!, $minutes: Int!) {
        slice(key: $key) {
          segmentCoverage(minutes: $minutes) {
            segmentKey
            measured
            sampled
            inSegment
            share
            shareLow
            shareHigh
            decisions
            estimatedDecisions
          }
        }
      }
    `,
    { key, minutes },
  );
  return data.slice?.segmentCoverage ?? [];
}

/** One segment of one slice to LEGACY (docs/segment-rollback.md): no version, like rollback. */
export async function rollbackSegment(key: string, segment: string, reason: string): Promise<void> {
  await graphql(
    `
      mutation ConsoleRollbackSegment($key: String!, $segment: String!, $reason: String!, $idem: String) {
        rollbackSegment(key: $key, segment: $segment, reason: $reason, idempotencyKey: $idem) {
          key
        }
      }
    `,
    { key, segment, reason, idem: idempotencyKey() },
  );
}

export async function resumeSegment(key: string, segment: string, reason: string, expectedVersion: number): Promise<void> {
  await graphql(
    `
      mutation ConsoleResumeSegment($key: String!, $segment: String!, $reason: String, $v: Int, $idem: String) {
        resumeSegment(key: $key, segment: $segment, reason: $reason, expectedVersion: $v, idempotencyKey: $idem) {
          key
        }
      }
    `,
    { key, segment, reason, v: expectedVersion, idem: idempotencyKey() },
  );
}

export async function rollbackAll(tag: string, reason: string): Promise<number> {
  const data = await graphql<{ rollbackAll: { count: number } }>(
    `
      mutation ConsoleRollbackAll($tag: String, $reason: String!, $idem: String) {
        rollbackAll(tag: $tag, reason: $reason, idempotencyKey: $idem) {
          count
        }
      }
    `,
    { tag, reason, idem: idempotencyKey() },
  );
  return data.rollbackAll.count;
}

export async function resume(key: string, reason: string, expectedVersion: number): Promise<void> {
  await graphql(
    `
      mutation ConsoleResume($key: String!, $reason: String, $v: Int, $idem: String) {
        resume(key: $key, reason: $reason, expectedVersion: $v, idempotencyKey: $idem) {
          key
        }
      }
    `,
    { key, reason, v: expectedVersion, idem: idempotencyKey() },
  );
}

/** `freezeOverride`: an admin's reason to raise exposure during a freeze window (null: no override). */
export async function setRollout(key: string, percent: number, reason: string, expectedVersion: number, freezeOverride: string | null = null): Promise<void> {
  await graphql(
    `
      mutation ConsoleSetRollout($key: String!, $percent: Float!, $reason: String, $v: Int, $idem: String, $freezeOverride: String) {
        setRollout(key: $key, percent: $percent, reason: $reason, expectedVersion: $v, idempotencyKey: $idem, freezeOverride: $freezeOverride) {
          key
          version
        }
      }
    `,
    { key, percent, reason, v: expectedVersion, idem: idempotencyKey(), freezeOverride },
  );
}

export async function createSlice(input: { key: string; description: string; owner: string; tags: string[]; reason: string }): Promise<void> {
  await graphql(
    `
      mutation ConsoleCreateSlice($key: String!, $description: String!, $owner: String!, $tags: [String!]!, $reason: String, $idem: String) {
        createSlice(key: $key, description: $description, owner: $owner, tags: $tags, reason: $reason, idempotencyKey: $idem) {
          key
        }
      }
    `,
    { ...input, idem: idempotencyKey() },
  );
}
