/**
 * A Switchyard client for hosts' own tests: the public surface of the real client, answering from a
 * configuration written in the test instead of one streamed from a service. Like OpenFeature's
 * InMemoryProvider: no network, no timers, no files, deterministic.
 *
 * Decisions go through the same pure core as the real client's (compileSnapshot), so a subject
 * lands on the same path here as in production for the same configuration: a host test that pins
 * "user 42 is on NEW at 5 %" stays true against the real thing.
 *
 * Where it differs from the real client, on purpose:
 * - A configuration the service could never send (an unknown segment named by a slice, a percent
 *   with three decimals, an invalid constraint, a revision that goes back) is a TypeError thrown at
 *   the test, not a silent LEGACY: a broken fixture should fail the test that wrote it.
 * - Nothing happens in the background: the test says when the service "sends" a revision
 *   (`update`, `setSlice`), drops or comes back (`setConnected`), or fails (`reportError`).
 */
import {
  ATTRIBUTE_NAME_PATTERN,
  compileSnapshot,
  definitionOf,
  ERROR_DECISION,
  isBasisPoints,
  percentToBasisPoints,
  SEGMENT_KEY_PATTERN,
  SLICE_KEY_PATTERN,
  validateConstraint,
  type CompiledSnapshot,
  type Constraint,
  type Decision,
  type EvaluationContext,
  type Path,
  type RuleDefinition,
  type SegmentDefinition,
  type SliceDefinition,
  type SliceState,
  type SnapshotDefinition,
} from '../core/index.js';
import { SwitchyardError } from '../errors.js';
import type { ChangeEvent, ClientErrorInfo, ClientState, ClientStatus, CompareHandlers, PathCounts, RouteHandlers, SwitchyardClient } from '../index.js';
import { changedSlices } from '../snapshot/snapshot-diff.js';

/** One targeting rule of an {@link InMemorySlice}: subjects in all of `segments` get `percent` on NEW. */
export interface InMemoryRule {
  /** Segment keys, each defined in {@link InMemoryConfiguration.segments}. */
  readonly segments: readonly string[];
  /** Share on NEW for the subjects this rule matches, 0 to 100 with at most two decimals. */
  readonly percent: number;
}

/** One slice as a test writes it: only what the test cares about, the rest as a new slice has it. */
export interface InMemorySlice {
  /** Share of subjects on NEW, 0 to 100 with at most two decimals (`0.25` is a quarter of a percent). Default 0. */
  readonly percent?: number;
  /** Default `ACTIVE`. `ROLLED_BACK` and `ARCHIVED` send everyone to LEGACY whatever the rest says. */
  readonly state?: SliceState;
  /** The context attribute that identifies a subject. Default `userId`. */
  readonly stickinessAttribute?: string;
  /** Segments forced to NEW. */
  readonly include?: readonly string[];
  /** Segments forced to LEGACY (exclude wins over include). */
  readonly exclude?: readonly string[];
  /** Ordered rules: the first whose segments all match gives the share. */
  readonly rules?: readonly InMemoryRule[];
}

/**
 * A configuration written in a test: slices by key (`'NEW'` for everyone on NEW, `'LEGACY'` for
 * no one, or an {@link InMemorySlice}), segments by key (their constraints, with Unleash's semantics
 * as in the service).
 *
 * @example
 * ```ts
 * {
 *   slices: {
 *     'payments.provider.mpesa': { percent: 5, exclude: ['salary-run'], rules: [{ segments: ['kenya'], percent: 20 }] },
 *     'api.get-transactions': 'NEW',
 *   },
 *   segments: {
 *     'salary-run': [{ attribute: 'accountId', operator: 'IN', values: ['acme', 'globex'] }],
 *     kenya: [{ attribute: 'country', operator: 'IN', values: ['KE'] }],
 *   },
 * }
 * ```
 */
export interface InMemoryConfiguration {
  readonly slices?: Readonly<Record<string, InMemorySlice | Path>>;
  readonly segments?: Readonly<Record<string, readonly Constraint[]>>;
}

/** Options of {@link InMemoryClient}. */
export interface InMemoryClientOptions {
  /**
   * Called for every failure the client reports, as the real client's `onError` is: the errors a
   * test passes to `reportError`, and listeners that throw (`LISTENER_FAILED`).
   */
  readonly onError?: (error: SwitchyardError) => void;
  /**
   * The time in epoch milliseconds, for date constraints on `currentTime` when the context has no
   * such attribute, and for `staleSince` and `lastError.at`. Default `Date.now`.
   */
  readonly clock?: () => number;
}

/**
 * The snapshot (the JSON the service serves at `GET /sdk/v1/snapshot`) that an
 * {@link InMemoryConfiguration} stands for. Useful as the real client's `bootstrap`, or to write a
 * fixture file once.
 *
 * @param revision - the snapshot's revision. Default 1.
 * @throws TypeError when the configuration is not one the service could serve: a percent outside
 *   0..100 or with more than two decimals, an invalid key, attribute or constraint, a slice naming a
 *   segment the configuration does not define.
 */
export function snapshotOf(configuration: InMemoryConfiguration, revision = 1): SnapshotDefinition {
  if (typeof configuration !== 'object' || configuration === null) throw new TypeError('a configuration must be an object');
  const slices = Object.entries(configuration.slices ?? {}).map(([key, slice]) => sliceOf(key, slice));
  const segments = Object.entries(configuration.segments ?? {}).map(([key, constraints]): SegmentDefinition => ({ key, constraints: [...constraints] }));
  const snapshot: SnapshotDefinition = { revision, slices, segments };
  checkSnapshot(snapshot);
  return snapshot;
}

/**
 * An in-memory {@link SwitchyardClient} for a host's own tests: hand it to the code under test where
 * the real client would go (or to `new SwitchyardProvider(client)` for OpenFeature), and change what
 * it answers from the test.
 *
 * - `new InMemoryClient(configuration)` behaves as a real client that has heard the service:
 *   `status()` is `{ state: 'streaming', source: 'service', connected: true, revision: 1, ... }`.
 *   The configuration is an {@link InMemoryConfiguration} or a whole snapshot (e.g. one saved from
 *   `GET /sdk/v1/snapshot`), which keeps its own revision.
 * - `new InMemoryClient()` behaves as one that has not heard the service yet: every decision is
 *   LEGACY with reason `UNKNOWN_SLICE`, `status()` is `{ state: 'connecting', source: 'none', ... }`.
 * - `update` and `setSlice` stand for a new revision from the service: listeners of `onChange` are
 *   called before they return, with the slices that may decide differently.
 * - `setConnected` and `reportError` stand for the service dropping, coming back, or failing:
 *   `status()` and `onStatusChange` follow as they do on the real client.
 *
 * `decide`, `explain` and `route` never throw, and count decisions in `counts()`, as on the real client.
 *
 * @example
 * ```ts
 * import { InMemoryClient } from '@switchyard/client-sdk/testing';
 *
 * const switchyard = new InMemoryClient({ slices: { 'payments.provider.mpesa': 'NEW' } });
 * const app = createApp({ switchyard }); // the host's code, given the client it would get from createClient
 * expect(await pay(app, { userId: '42' })).toMatchObject({ provider: 'new' });
 *
 * switchyard.setSlice('payments.provider.mpesa', { percent: 100, state: 'ROLLED_BACK' }); // a rollback
 * expect(await pay(app, { userId: '42' })).toMatchObject({ provider: 'legacy' });
 * expect(switchyard.counts()['payments.provider.mpesa']).toEqual({ NEW: 1, LEGACY: 1 });
 * ```
 */
export class InMemoryClient implements SwitchyardClient {
  private compiled: CompiledSnapshot = NO_CONFIGURATION;
  /** Null until a configuration is in use. */
  private revision: number | null = null;
  private connected = false;
  private everConnected = false;
  private staleSince: Date | null = null;
  private lastError: ClientErrorInfo | null = null;
  private closed = false;

  private readonly counters = new Map<string, { NEW: number; LEGACY: number }>();
  private readonly listeners = new Set<(event: ChangeEvent) => void>();
  private readonly statusListeners = new Set<(status: ClientStatus) => void>();
  /** Set while status listeners run: a failure they cause is reported without calling them again (as in the real client). */
  private emittingStatus = false;
  private readonly clock: () => number;

  /**
   * @param configuration - what to answer from; omitted, the client has no configuration yet.
   * @param options - `onError` and `clock`.
   * @throws TypeError when the configuration is not one the service could serve (see {@link snapshotOf}).
   */
  constructor(
    configuration?: InMemoryConfiguration | SnapshotDefinition,
    private readonly options: InMemoryClientOptions = {},
  ) {
    this.clock = options.clock ?? Date.now;
    if (configuration !== undefined) {
      this.compiled = compileSnapshot(this.snapshotFrom(configuration));
      this.revision = this.compiled.revision;
      this.connected = true;
      this.everConnected = true;
    }
  }

  // ---------------------------------------------------------------- the SwitchyardClient surface

  /** Legacy or new, as the real client decides it from the same configuration. Never throws. */
  decide(slice: string, context: EvaluationContext | null | undefined): Path {
    return this.explain(slice, context).path;
  }

  /** Like `decide`, with the reason (and the rule index for `RULE`). The returned object is shared and frozen. Never throws. */
  explain(slice: string, context: EvaluationContext | null | undefined): Decision {
    let decision: Decision;
    try {
      // Without a clock option, `now` stays undefined and the core reads the time itself, as for the real client.
      decision = this.compiled.explain(slice, context, this.options.clock?.());
    } catch {
      decision = ERROR_DECISION; // a throwing clock: the host still gets no exception
    }
    this.count(slice, decision.path);
    return decision;
  }

  /**
   * Calls `handlers.next()` on NEW, `handlers.legacy()` otherwise, and returns its result; the
   * handlers' exceptions propagate. Outcomes are not measured (nothing is reported): the options are ignored.
   */
  route<T>(slice: string, context: EvaluationContext | null | undefined, handlers: RouteHandlers<T>): T {
    return this.decide(slice, context) === 'NEW' ? handlers.next() : handlers.legacy();
  }

  /** Serves the decided path as `route` does; never runs the other one (there is no shadow share to sample from here). */
  compare<T, N = Awaited<T>>(slice: string, context: EvaluationContext | null | undefined, handlers: CompareHandlers<T, N>): T {
    return this.route(slice, context, handlers);
  }

  /** Does nothing: the in-memory client reports nothing. */
  recordOutcome(): void {
    // Nothing to report to.
  }

  /** Calls `listener` after each `update` / `setSlice`. Returns the function that unsubscribes. */
  onChange(listener: (event: ChangeEvent) => void): () => void {
    const entry = (event: ChangeEvent): void => listener(event);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }

  /** Calls `listener` with the new `status()` when `connected` flips and after each reported error. Returns the function that unsubscribes. */
  onStatusChange(listener: (status: ClientStatus) => void): () => void {
    const entry = (status: ClientStatus): void => listener(status);
    this.statusListeners.add(entry);
    return () => {
      this.statusListeners.delete(entry);
    };
  }

  /** The slice's stickiness attribute in the configuration in use, or undefined for an unknown slice. */
  stickinessAttribute(slice: string): string | undefined {
    return this.compiled.stickinessAttribute(slice);
  }

  /** As the real client's: state, revision, source, connected, staleSince, lastError. */
  status(): ClientStatus {
    const state: ClientState = this.closed ? 'closed' : this.connected ? 'streaming' : this.everConnected ? 'polling' : 'connecting';
    return {
      state,
      revision: this.revision,
      source: this.revision === null ? 'none' : 'service',
      connected: this.connected,
      staleSince: this.staleSince,
      lastError: this.lastError,
    };
  }

  /** Decisions per slice and path since the client was created (`decide`, `explain` and `route` all count). A copy. */
  counts(): Record<string, PathCounts> {
    return Object.fromEntries([...this.counters].map(([slice, { NEW, LEGACY }]) => [slice, { NEW, LEGACY }]));
  }

  /** Marks the client closed (`status().state` is `closed`); it keeps answering from its configuration. */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.markConnected(false);
    }
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- what the test drives

  /**
   * The service sends a new configuration: it replaces the whole one in use, listeners of
   * `onChange` are called, and the client counts as connected.
   *
   * @param configuration - an {@link InMemoryConfiguration} (it gets the next revision) or a whole
   *   snapshot (its revision must be newer than the one in use: revisions only grow).
   * @returns the event the listeners received.
   * @throws TypeError when the configuration is not one the service could serve; Error when the client is closed.
   */
  update(configuration: InMemoryConfiguration | SnapshotDefinition): ChangeEvent {
    if (this.closed) throw new Error('the in-memory Switchyard client is closed: a closed client receives no new configuration');
    return this.use(compileSnapshot(this.snapshotFrom(configuration)));
  }

  /**
   * The service sends a new revision in which one slice is as given (added or replaced); every
   * other slice and segment stays as it is.
   *
   * @returns the event the listeners of `onChange` received.
   * @throws TypeError when the slice is not one the service could serve (e.g. it names an unknown segment).
   */
  setSlice(key: string, slice: InMemorySlice | Path): ChangeEvent {
    const current = definitionOf(this.compiled);
    const next = sliceOf(key, slice);
    return this.update({
      revision: this.nextRevision(),
      slices: [...current.slices.filter((s) => s.key !== key), next],
      segments: current.segments,
    });
  }

  /**
   * The service stops (`false`) or starts again (`true`) being heard: `status()` turns `polling`
   * with `staleSince` set, or `streaming` again, and `onStatusChange` listeners are called when it flips.
   * Decisions keep coming from the configuration in use, as on the real client.
   */
  setConnected(connected: boolean): void {
    if (this.closed) return;
    this.markConnected(connected);
  }

  /**
   * Reports a background failure as the real client does: it becomes `status().lastError`, the
   * `onStatusChange` listeners and `onError` are called. E.g. a refused token:
   * `reportError(new SwitchyardError('UNAUTHORIZED', 'stream', 'token revoked', { httpStatus: 401 }))`.
   */
  reportError(error: SwitchyardError): void {
    this.lastError = {
      code: error.code,
      operation: error.operation,
      message: error.message,
      ...(error.httpStatus === undefined ? {} : { httpStatus: error.httpStatus }),
      at: new Date(this.clock()),
    };
    this.emitStatus();
    try {
      this.options.onError?.(error);
    } catch {
      // As in the real client: a broken error handler breaks nothing.
    }
  }

  // ---------------------------------------------------------------- internals

  private snapshotFrom(configuration: InMemoryConfiguration | SnapshotDefinition): SnapshotDefinition {
    let snapshot: SnapshotDefinition;
    if (isSnapshot(configuration)) {
      checkSnapshot(configuration);
      if (this.revision !== null && !(configuration.revision > this.revision)) {
        throw new TypeError(`snapshot revision ${configuration.revision} is not newer than the ${this.revision} in use: revisions only grow`);
      }
      snapshot = configuration;
    } else {
      snapshot = snapshotOf(configuration, this.nextRevision());
    }
    // A copy: the test may reuse or mutate its objects (constraint values too); ours must stay what was compiled.
    return JSON.parse(JSON.stringify(snapshot)) as SnapshotDefinition;
  }

  private nextRevision(): number {
    return (this.revision ?? 0) + 1;
  }

  private use(compiled: CompiledSnapshot): ChangeEvent {
    const previous = this.revision === null ? null : definitionOf(this.compiled);
    const event: ChangeEvent = Object.freeze({
      revision: compiled.revision,
      previousRevision: this.revision,
      changedSlices: Object.freeze(changedSlices(previous, definitionOf(compiled))),
    });
    this.compiled = compiled;
    this.revision = compiled.revision;
    this.everConnected = true;
    this.markConnected(true);
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.reportError(new SwitchyardError('LISTENER_FAILED', 'listener', `an onChange listener threw: ${describe(error)}`, { cause: error }));
      }
    }
    return event;
  }

  private count(slice: string, path: Path): void {
    if (typeof slice !== 'string') return;
    let counts = this.counters.get(slice);
    if (counts === undefined) {
      counts = { NEW: 0, LEGACY: 0 };
      this.counters.set(slice, counts);
    }
    counts[path]++;
  }

  /** As the real client: `staleSince` is set from the first moment the service is not heard; listeners hear only flips. */
  private markConnected(connected: boolean): void {
    const flipped = connected !== this.connected;
    this.connected = connected;
    if (connected) {
      this.everConnected = true;
      this.staleSince = null;
    } else {
      this.staleSince ??= new Date(this.clock());
    }
    if (flipped) this.emitStatus();
  }

  private emitStatus(): void {
    if (this.emittingStatus) return;
    this.emittingStatus = true;
    try {
      const status = this.status();
      for (const listener of [...this.statusListeners]) {
        try {
          listener(status);
        } catch (error) {
          this.reportError(new SwitchyardError('LISTENER_FAILED', 'listener', `an onStatusChange listener threw: ${describe(error)}`, { cause: error }));
        }
      }
    } finally {
      this.emittingStatus = false;
    }
  }
}

// ---------------------------------------------------------------- configuration → snapshot

function isSnapshot(configuration: InMemoryConfiguration | SnapshotDefinition): configuration is SnapshotDefinition {
  return (
    typeof configuration === 'object' && configuration !== null && (Array.isArray(configuration.slices) || Array.isArray(configuration.segments) || 'revision' in configuration)
  );
}

function sliceOf(key: string, slice: InMemorySlice | Path): SliceDefinition {
  const s: InMemorySlice = slice === 'NEW' ? { percent: 100 } : slice === 'LEGACY' ? { percent: 0 } : slice;
  // Reached only when `slice` is no object (an untyped caller's mistake): String shows the primitive.
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- see above
  if (typeof s !== 'object' || s === null) throw new TypeError(`slice "${key}": expected 'NEW', 'LEGACY' or an object, got ${String(slice)}`);
  return {
    key,
    state: s.state ?? 'ACTIVE',
    basisPoints: basisPoints(s.percent ?? 0, `slice "${key}" percent`),
    stickinessAttribute: s.stickinessAttribute ?? 'userId',
    targeting: {
      include: [...(s.include ?? [])],
      exclude: [...(s.exclude ?? [])],
      rules: (s.rules ?? []).map((rule, index) => ({ segments: [...rule.segments], basisPoints: basisPoints(rule.percent, `slice "${key}" rule ${index} percent`) })),
    },
  };
}

function basisPoints(percent: number, what: string): number {
  const bp = percentToBasisPoints(percent);
  if (bp === null) throw new TypeError(`${what}: ${String(percent)} is not a percent from 0 to 100 with at most two decimals`);
  return bp;
}

/** What a client without configuration decides from: every slice unknown, so LEGACY. */
const NO_CONFIGURATION: CompiledSnapshot = compileSnapshot({ revision: 0, slices: [], segments: [] });

const STATES: readonly unknown[] = ['ACTIVE', 'ROLLED_BACK', 'ARCHIVED'];

/**
 * What the service guarantees of every snapshot it serves, checked so that a fixture cannot be
 * something production never sees (the core would decide such a slice LEGACY, reason ERROR, or
 * treat an unknown segment as matching nobody: silently, which is right for the SDK and wrong for
 * a test). The shape itself is compileSnapshot's to check.
 */
function checkSnapshot(snapshot: SnapshotDefinition): void {
  compileSnapshot(snapshot); // TypeError when not shaped like a snapshot
  const segmentKeys = new Set<string>();
  for (const segment of snapshot.segments) {
    if (!SEGMENT_KEY_PATTERN.test(segment.key)) fail(`segment key "${segment.key}" does not match ${String(SEGMENT_KEY_PATTERN)}`);
    if (!Array.isArray(segment.constraints)) fail(`segment "${segment.key}": constraints must be a list`);
    segment.constraints.forEach((constraint: Constraint, index) => {
      const problems = validateConstraint(constraint);
      if (problems.length > 0) fail(`segment "${segment.key}" constraint ${index}: ${problems.map((p) => `${p.code} (${p.message})`).join('; ')}`);
    });
    segmentKeys.add(segment.key);
  }
  for (const slice of snapshot.slices) {
    const where = `slice "${slice.key}"`;
    if (!SLICE_KEY_PATTERN.test(slice.key)) fail(`slice key "${slice.key}" does not match ${String(SLICE_KEY_PATTERN)}`);
    if (!STATES.includes(slice.state)) fail(`${where}: unknown state ${String(slice.state)}`);
    if (!isBasisPoints(slice.basisPoints)) fail(`${where}: basisPoints must be an integer from 0 to 10000`);
    if (typeof slice.stickinessAttribute !== 'string' || !ATTRIBUTE_NAME_PATTERN.test(slice.stickinessAttribute)) {
      fail(`${where}: stickinessAttribute "${String(slice.stickinessAttribute)}" does not match ${String(ATTRIBUTE_NAME_PATTERN)}`);
    }
    const targeting = slice.targeting as Partial<SliceDefinition['targeting']> | undefined;
    if (typeof targeting !== 'object' || targeting === null || !Array.isArray(targeting.include) || !Array.isArray(targeting.exclude) || !Array.isArray(targeting.rules)) {
      fail(`${where}: targeting needs include, exclude and rules lists`);
    }
    const named = (list: unknown, what: string): void => {
      if (!Array.isArray(list)) fail(`${where}: ${what} must be a list of segment keys`);
      for (const key of list as unknown[])
        if (typeof key !== 'string' || !segmentKeys.has(key)) fail(`${where}: ${what} names segment "${String(key)}", which the configuration does not define`);
    };
    named(targeting.include, 'include');
    named(targeting.exclude, 'exclude');
    targeting.rules.forEach((rule: RuleDefinition | null, index) => {
      if (typeof rule !== 'object' || rule === null) fail(`${where}: rule ${index} must be an object`);
      named(rule.segments, `rule ${index}`);
      if (!isBasisPoints(rule.basisPoints)) fail(`${where}: rule ${index} basisPoints must be an integer from 0 to 10000`);
    });
  }
}

function fail(message: string): never {
  throw new TypeError(message);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
