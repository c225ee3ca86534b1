import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { type PublishedSnapshot, SnapshotService } from '../../delivery/snapshot.service.js';
import type { SegmentDefinition, SliceDefinition, SnapshotDefinition } from '@switchyard/client-sdk/core';
import { describeApproximations, describeInexpressible, mapSlice, type ToggleMapping } from './toggle-mapper.js';
import type { UnleashDeltaEvent, UnleashFeature, UnleashFeaturesResponse } from './unleash-protocol.js';

/** The toggles of one snapshot, serialized once for every request and stream. */
export interface PublishedToggles {
  readonly revision: number;
  /** The snapshot's ETag (its revision), shared with GET /sdk/v1/snapshot. */
  readonly etag: string;
  /**
   * The first revision, as far as this instance knows, with exactly these toggles: a client that
   * holds any revision from `sameSince` to `revision` needs nothing.
   */
  readonly sameSince: number;
  readonly features: readonly UnleashFeature[];
  /** The body of GET /api/client/features (no filter). */
  readonly body: Buffer;
  /** `unleash-connected` with a hydration: the whole state, for a client that has none. */
  readonly connected: Buffer;
  /** `unleash-updated` with a hydration: the whole state, for a client too far behind for `delta`. */
  readonly rehydrate: Buffer;
  /**
   * `unleash-updated` with `feature-updated` / `feature-removed` events, for a client holding the
   * previous toggles (any revision in `from`); null when there were none before or nothing changed.
   */
  readonly delta: { readonly from: { readonly sameSince: number; readonly revision: number }; readonly event: Buffer } | null;
}

const QUERY = { inlineSegmentConstraints: true } as const;

/**
 * Keeps the Unleash view of the current snapshot: recomputed once per published snapshot (from any
 * instance, via SnapshotService), never per request, never from the database.
 */
@Injectable()
export class UnleashFeaturesService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(UnleashFeaturesService.name);
  private published: PublishedToggles | null = null;
  /** Each published feature as JSON, by name: what the next revision is diffed against. */
  private publishedJson = new Map<string, string>();
  private readonly listeners = new Set<(toggles: PublishedToggles) => void>();
  /** Slices logged as not exactly expressible, with the reason: logged once per slice and reason. */
  private readonly reported = new Map<string, string>();
  /**
   * Each slice's mapping with what it was computed from (the slice's and its segments' JSON): the
   * next snapshot maps again only the slices whose input changed. Expanding targeting into Unleash
   * strategies costs up to milliseconds per slice; a rollback among 200 slices maps one.
   */
  private mappings = new Map<string, MappedSlice>();
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly moduleRef: ModuleRef) {}

  /**
   * SnapshotService is looked up, not injected: importing DeliveryModule here would make it one
   * level deeper in the module graph than GraphQLModule, so Nest would destroy GraphQLModule first
   * at shutdown and Apollo's drain would wait out its grace period for the SDK streams that
   * StreamHub ends in its onModuleDestroy (see stream-hub.service.ts; test/e2e/delivery checks
   * it). Every instance exists by onModuleInit; the first snapshot is published later, at
   * bootstrap.
   */
  onModuleInit(): void {
    const snapshots = this.moduleRef.get(SnapshotService, { strict: false });
    // In the next turn of the event loop: the SDK streams (StreamHub, subscribed first) are written
    // before the Unleash view is computed.
    this.unsubscribe = snapshots.subscribe((snapshot) => setImmediate(() => this.publish(snapshot)));
    const current = snapshots.current();
    if (current !== null) this.publish(current);
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** The toggles being served, or null before the first snapshot. */
  current(): PublishedToggles | null {
    return this.published;
  }

  /** Called with every newly published set of toggles. Returns the unsubscribe function. */
  subscribe(listener: (toggles: PublishedToggles) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The features response restricted to names starting with `namePrefix` (serialized per request: rare). */
  filteredBody(toggles: PublishedToggles, namePrefix: string): Buffer {
    const response: UnleashFeaturesResponse = {
      version: 2,
      features: toggles.features.filter((f) => f.name.startsWith(namePrefix)),
      query: { ...QUERY, namePrefix },
    };
    return Buffer.from(JSON.stringify(response));
  }

  private publish(snapshot: PublishedSnapshot): void {
    const previous = this.published;
    if (previous !== null && snapshot.revision <= previous.revision) return;
    const mapped = this.map(snapshot.definition);
    this.report(mapped.map((m) => m.mapping));
    const features = mapped.map((m) => m.mapping.feature);
    const revision = snapshot.revision;

    const json = new Map(mapped.map((m) => [m.mapping.feature.name, m.json]));
    const events: UnleashDeltaEvent[] = [];
    if (previous !== null) {
      const before = this.publishedJson;
      for (const f of features) if (before.get(f.name) !== json.get(f.name)) events.push({ type: 'feature-updated', eventId: revision, feature: f });
      for (const name of before.keys()) if (!json.has(name)) events.push({ type: 'feature-removed', eventId: revision, featureName: name, project: 'default' });
    }
    const unchanged = previous !== null && events.length === 0;

    // The serialized forms are built on first use (a features poll, a stream): with toggles that
    // expand a 1,000-id segment into several strategies they are megabytes, and an instance no
    // Unleash SDK talks to should not build them on every change. They are assembled from each
    // feature's JSON (kept with its mapping): the same text as JSON.stringify of an
    // UnleashFeaturesResponse / UnleashDelta.
    const featuresJson = once(() => `[${mapped.map((m) => m.json).join(',')}]`);
    const hydrationJson = once(() => `{"events":[{"type":"hydration","eventId":${revision},"features":${featuresJson()},"segments":[]}]}`);
    const body = once(() => Buffer.from(`{"version":2,"features":${featuresJson()},"query":${JSON.stringify(QUERY)}}`));
    const connected = once(() => sseEvent(revision, 'unleash-connected', hydrationJson()));
    const rehydrate = once(() => sseEvent(revision, 'unleash-updated', hydrationJson()));
    const deltaEvent = once(() => sseEvent(revision, 'unleash-updated', JSON.stringify({ events })));
    const toggles: PublishedToggles = {
      revision,
      etag: snapshot.etag,
      sameSince: unchanged ? previous.sameSince : revision,
      features,
      get body() {
        return body();
      },
      get connected() {
        return connected();
      },
      get rehydrate() {
        return rehydrate();
      },
      delta:
        previous === null || unchanged
          ? null
          : {
              from: { sameSince: previous.sameSince, revision: previous.revision },
              get event() {
                return deltaEvent();
              },
            },
    };
    this.published = toggles;
    this.publishedJson = json;
    for (const listener of this.listeners) {
      try {
        listener(toggles);
      } catch (error) {
        this.logger.error({ msg: 'toggles listener failed', error: (error as Error).message });
      }
    }
  }

  /** mapSnapshot, reusing the previous mapping of every slice whose input is unchanged. */
  private map(snapshot: SnapshotDefinition): MappedSlice[] {
    const segments = new Map(snapshot.segments.map((s) => [s.key, s]));
    const segmentJson = new Map<string, string>();
    const next = new Map<string, MappedSlice>();
    const result = snapshot.slices.map((slice) => {
      const input = mappingInput(slice, segments, segmentJson);
      const before = this.mappings.get(slice.key);
      let entry = before;
      if (entry === undefined || entry.input !== input) {
        const mapping = mapSlice(slice, segments);
        entry = { input, mapping, json: JSON.stringify(mapping.feature) };
      }
      next.set(slice.key, entry);
      return entry;
    });
    this.mappings = next;
    return result;
  }

  /**
   * Logs once per slice (and again when the reason changes) when an ACTIVE slice is served disabled
   * or with strategies left out. Fractional percents are expected (documented) and not logged.
   */
  private report(mappings: readonly ToggleMapping[]): void {
    for (const m of mappings) {
      const sliceKey = m.feature.name;
      const surprising = m.approximations.filter((a) => a !== 'FRACTIONAL_PERCENT');
      const reason =
        m.inexpressible !== null ? `served disabled (everyone LEGACY): ${describeInexpressible(m.inexpressible)}` : surprising.length > 0 ? `conservative form: ${describeApproximations(surprising)}` : null;
      if (reason === null) {
        this.reported.delete(sliceKey);
        continue;
      }
      if (this.reported.get(sliceKey) === reason) continue;
      this.reported.set(sliceKey, reason);
      this.logger.warn({ msg: 'slice not exactly expressible for Unleash SDKs', sliceKey, code: m.inexpressible?.code ?? surprising.join(','), reason });
    }
  }
}

/** `compute`, called at most once: later calls return the first result. */
function once<T>(compute: () => T): () => T {
  let done = false;
  let value: T;
  return () => {
    if (!done) {
      value = compute();
      done = true;
    }
    return value;
  };
}

function sseEvent(id: number, event: string, data: string): Buffer {
  return Buffer.from(`id: ${id}\nevent: ${event}\ndata: ${data}\n\n`);
}

interface MappedSlice {
  /** What the mapping was computed from (see mappingInput). */
  readonly input: string;
  readonly mapping: ToggleMapping;
  /** The feature's JSON, serialized once. */
  readonly json: string;
}

/** What a slice's mapping depends on: its definition and the definitions of the segments it names (missing ones as null). */
function mappingInput(slice: SliceDefinition, segments: ReadonlyMap<string, SegmentDefinition>, cache: Map<string, string>): string {
  const t = slice.targeting;
  const named = new Set([...t.include, ...t.exclude, ...t.rules.flatMap((rule) => rule.segments)]);
  const parts = [JSON.stringify(slice)];
  for (const key of [...named].sort()) {
    let json = cache.get(key);
    if (json === undefined) {
      json = JSON.stringify(segments.get(key) ?? null);
      cache.set(key, json);
    }
    parts.push(key, json);
  }
  return parts.join('\n');
}
