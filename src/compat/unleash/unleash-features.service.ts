import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { SegmentDefinition, SliceDefinition, SnapshotDefinition } from '@switchyard/client-sdk/core';
import { PreparedBody } from '../../delivery/prepared-body.js';
import { type PublishedSnapshot, SnapshotService } from '../../delivery/snapshot.service.js';
import { ServedForms, type ServedFormOf, type UnleashServedForms } from '../../traffic/served-forms.js';
import { describeInexpressible, expandSlice, type ToggleMapping, togglesByLevel } from './toggle-mapper.js';
import { CLIENT_LEVELS, type ClientLevel, describeApproximations, LEVEL_APPROXIMATIONS, levelIndex, levelOf, levelTag, NEWEST_LEVEL } from './unleash-constraints.js';
import type { UnleashDeltaEvent, UnleashFeature, UnleashFeaturesResponse } from './unleash-protocol.js';

/** The toggles of one snapshot as SDKs at one client level get them, serialized once for every request and stream. */
export interface PublishedToggles {
  readonly revision: number;
  readonly level: ClientLevel;
  /**
   * `"<revision>;spec=<level>"`: the body depends on the snapshot's revision and on the client
   * specification the SDK declares (responses also say `Vary: Unleash-Client-Spec`).
   */
  readonly etag: string;
  /**
   * The first revision, as far as this instance knows, with exactly these toggles for this level: a
   * client that holds any revision from `sameSince` to `revision` needs nothing.
   */
  readonly sameSince: number;
  readonly features: readonly UnleashFeature[];
  /** The body of GET /api/client/features (no filter), with its compressed forms. */
  readonly prepared: PreparedBody;
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

/** What is served for one snapshot: the toggles for each client level. */
export interface PublishedView {
  readonly revision: number;
  /** The toggles for SDKs at `level`. */
  toggles(level: ClientLevel): PublishedToggles;
  /** The toggle of one slice for SDKs at `level`; undefined when the snapshot has no such slice. */
  mapping(sliceKey: string, level: ClientLevel): ToggleMapping | undefined;
}

const QUERY = { inlineSegmentConstraints: true } as const;

/**
 * Keeps the Unleash view of the current snapshot: recomputed once per published snapshot (from any
 * instance, via SnapshotService), never per request, never from the database. Each slice's
 * targeting is expanded once; each client level (unleash-constraints.ts) gets the strategies it
 * evaluates exactly, or the conservative form; most slices are the same for every level and are
 * serialized once. The bodies of a level are built the first time an SDK of that level asks.
 *
 * Also tells the followers' read side (traffic's ServedForms) which form an SDK of a given client
 * specification is served.
 */
@Injectable()
export class UnleashFeaturesService implements OnModuleInit, OnModuleDestroy, UnleashServedForms {
  private readonly logger = new Logger(UnleashFeaturesService.name);
  private published: PublishedView | null = null;
  /** Per level of CLIENT_LEVELS, what it was last published with. */
  private publishedLevels: PublishedLevel[] = [];
  private readonly listeners = new Set<(view: PublishedView) => void>();
  /** Slices logged as not exactly expressible, with the reason: logged once per slice and reason. */
  private readonly reported = new Map<string, string>();
  /**
   * Each slice's toggles with what they were computed from (the slice's and its segments' JSON):
   * the next snapshot maps again only the slices whose input changed. Expanding targeting into
   * Unleash strategies costs up to milliseconds per slice; a rollback among 200 slices maps one.
   */
  private mappings = new Map<string, MappedSlice>();
  private unsubscribe: (() => void) | null = null;

  constructor(
    private readonly moduleRef: ModuleRef,
    servedForms: ServedForms,
  ) {
    servedForms.provide(this);
  }

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

  /** What is being served, or null before the first snapshot. */
  current(): PublishedView | null {
    return this.published;
  }

  /** Called with every newly published view. Returns the unsubscribe function. */
  subscribe(listener: (view: PublishedView) => void): () => void {
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

  /** UnleashServedForms: the form of a slice served now to SDKs that declare `clientSpec`. */
  formOf(sliceKey: string, clientSpec: string | null): ServedFormOf | null {
    const mapping = this.published?.mapping(sliceKey, levelOf(clientSpec));
    if (mapping === undefined) return null;
    if (mapping.form === 'EXACT') return { form: 'EXACT', reason: null };
    const reason = mapping.inexpressible !== null ? describeInexpressible(mapping.inexpressible) : describeApproximations(mapping.approximations);
    return { form: mapping.form, reason };
  }

  private publish(snapshot: PublishedSnapshot): void {
    const previous = this.published;
    if (previous !== null && snapshot.revision <= previous.revision) return;
    const mapped = this.map(snapshot.definition);
    this.report(mapped.map((m) => m.forms[levelIndex(NEWEST_LEVEL)]!.mapping));
    const revision = snapshot.revision;
    const byName = new Map(mapped.map((m) => [m.key, m]));

    const levels = CLIENT_LEVELS.map((level, i) => {
      const json = new Map(mapped.map((m) => [m.key, m.forms[i]!.json]));
      const before = previous === null ? null : this.publishedLevels[i]!;
      return { toggles: this.levelToggles(level, i, revision, mapped, json, before), json };
    });
    this.publishedLevels = levels.map(({ toggles, json }) => ({ json, sameSince: toggles.sameSince, revision }));
    const view: PublishedView = {
      revision,
      toggles: (level) => levels[levelIndex(level)]!.toggles,
      mapping: (sliceKey, level) => byName.get(sliceKey)?.forms[levelIndex(level)]!.mapping,
    };
    this.published = view;
    for (const listener of this.listeners) {
      try {
        listener(view);
      } catch (error) {
        this.logger.error({ msg: 'toggles listener failed', error: (error as Error).message });
      }
    }
  }

  /**
   * The toggles of one level. The serialized forms are built on first use (a features poll, a
   * stream): with toggles that expand a 1,000-id segment into several strategies they are
   * megabytes, and an instance no Unleash SDK of that level talks to should not build them on
   * every change. They are assembled from each feature's JSON (kept with its mapping): the same
   * text as JSON.stringify of an UnleashFeaturesResponse / UnleashDelta.
   */
  private levelToggles(
    level: ClientLevel,
    i: number,
    revision: number,
    mapped: readonly MappedSlice[],
    json: ReadonlyMap<string, string>,
    before: PublishedLevel | null,
  ): PublishedToggles {
    const features = mapped.map((m) => m.forms[i]!.mapping.feature);
    const events: UnleashDeltaEvent[] = [];
    if (before !== null) {
      for (const f of features) if (before.json.get(f.name) !== json.get(f.name)) events.push({ type: 'feature-updated', eventId: revision, feature: f });
      for (const name of before.json.keys()) if (!json.has(name)) events.push({ type: 'feature-removed', eventId: revision, featureName: name, project: 'default' });
    }
    const unchanged = before !== null && events.length === 0;
    const featuresJson = once(() => `[${mapped.map((m) => m.forms[i]!.json).join(',')}]`);
    const hydrationJson = once(() => `{"events":[{"type":"hydration","eventId":${revision},"features":${featuresJson()},"segments":[]}]}`);
    const prepared = once(() => new PreparedBody(Buffer.from(`{"version":2,"features":${featuresJson()},"query":${JSON.stringify(QUERY)}}`)));
    const connected = once(() => sseEvent(revision, 'unleash-connected', hydrationJson()));
    const rehydrate = once(() => sseEvent(revision, 'unleash-updated', hydrationJson()));
    const deltaEvent = once(() => sseEvent(revision, 'unleash-updated', JSON.stringify({ events })));
    return {
      revision,
      level,
      etag: `"${revision};spec=${levelTag(level)}"`,
      sameSince: unchanged ? before.sameSince : revision,
      features,
      get prepared() {
        return prepared();
      },
      get connected() {
        return connected();
      },
      get rehydrate() {
        return rehydrate();
      },
      delta:
        before === null || unchanged
          ? null
          : {
              from: { sameSince: before.sameSince, revision: before.revision },
              get event() {
                return deltaEvent();
              },
            },
    };
  }

  /** Each slice's toggles for every level, reusing the previous ones of every slice whose input is unchanged. */
  private map(snapshot: SnapshotDefinition): MappedSlice[] {
    const segments = new Map(snapshot.segments.map((s) => [s.key, s]));
    const segmentJson = new Map<string, string>();
    const next = new Map<string, MappedSlice>();
    const result = snapshot.slices.map((slice) => {
      const input = mappingInput(slice, segments, segmentJson);
      let entry = this.mappings.get(slice.key);
      if (entry === undefined || entry.input !== input) {
        const byLevel = togglesByLevel(expandSlice(slice, segments));
        // Levels that share a mapping share its JSON too.
        const json = new Map<ToggleMapping, string>();
        const forms = byLevel.map((mapping) => {
          let text = json.get(mapping);
          if (text === undefined) {
            text = JSON.stringify(mapping.feature);
            json.set(mapping, text);
          }
          return { mapping, json: text };
        });
        entry = { key: slice.key, input, forms };
      }
      next.set(slice.key, entry);
      return entry;
    });
    this.mappings = next;
    return result;
  }

  /**
   * Logs once per slice (and again when the reason changes) when an ACTIVE slice is served to
   * up-to-date SDKs disabled or with strategies left out. Fractional percents are expected
   * (documented) and not logged; what older SDKs get is shown per follower (Slice.followers).
   */
  private report(mappings: readonly ToggleMapping[]): void {
    for (const m of mappings) {
      const sliceKey = m.feature.name;
      const surprising = m.approximations.filter((a) => a !== 'FRACTIONAL_PERCENT' && !LEVEL_APPROXIMATIONS.has(a));
      const reason =
        m.inexpressible !== null
          ? `served disabled (everyone LEGACY): ${describeInexpressible(m.inexpressible)}`
          : surprising.length > 0
            ? `conservative form: ${describeApproximations(surprising)}`
            : null;
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

/** What a level was last published with: what the next revision is diffed against. */
interface PublishedLevel {
  /** Each feature's JSON, by name. */
  readonly json: ReadonlyMap<string, string>;
  readonly sameSince: number;
  readonly revision: number;
}

interface MappedSlice {
  readonly key: string;
  /** What the toggles were computed from (see mappingInput). */
  readonly input: string;
  /** Per level of CLIENT_LEVELS: the toggle and its JSON, serialized once (shared between levels that get the same). */
  readonly forms: readonly { readonly mapping: ToggleMapping; readonly json: string }[];
}

/**
 * What a slice's toggles depend on: its decision fields and the definitions of the segments it
 * names (missing ones as null). Not its observation settings (watched, shadowBasisPoints): Unleash
 * clients have no use for them, and changing one must not remap the slice.
 */
function mappingInput(slice: SliceDefinition, segments: ReadonlyMap<string, SegmentDefinition>, cache: Map<string, string>): string {
  const t = slice.targeting;
  const named = new Set([...t.include, ...t.exclude, ...t.rules.flatMap((rule) => rule.segments)]);
  const { watched: _watched, shadowBasisPoints: _shadow, ...decision } = slice;
  const parts = [JSON.stringify(decision)];
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
