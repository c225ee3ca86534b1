/**
 * The Switchyard OpenFeature server provider: each slice is a boolean flag (`true` = NEW).
 *
 * It adapts, nothing more: decisions come from `SwitchyardClient.explain` (synchronous, local, no
 * I/O), the client's change and status notifications become provider events. It uses the SDK's
 * public API only, so it decides exactly as `client.decide` does.
 */
import {
  ErrorCode,
  GeneralError,
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  StandardResolutionReasons,
  type EvaluationContext as OpenFeatureContext,
  type EventMetadata,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
  type TrackingEventDetails,
} from '@openfeature/server-sdk';
import { createClient, type ChangeEvent, type ClientErrorInfo, type ClientOptions, type ClientStatus, type SwitchyardClient } from '../index.js';
import { toSwitchyardContext } from './context.js';
import { resolutionFor } from './reasons.js';

/** The provider's name in OpenFeature's metadata (and in event details' `providerName`). */
export const SWITCHYARD_PROVIDER_NAME = 'switchyard';

/**
 * The tracking event name under which OpenFeature hosts report a path's outcome (docs/openfeature.md):
 * `client.track('switchyard.outcome', context, { value: durationMs, flagKey, path: 'NEW' | 'LEGACY', outcome: 'ok' | 'failed' })`.
 */
export const OUTCOME_TRACKING_EVENT = 'switchyard.outcome';

/** What the provider last told OpenFeature about its state (READY also comes from a resolved `initialize`). */
type ReportedState = 'READY' | 'STALE' | 'ERROR';

/**
 * An OpenFeature server provider backed by a Switchyard client.
 *
 * - `new SwitchyardProvider(client)`: uses a client the host created (and shares with direct
 *   `decide` calls). The host owns it: `onClose` unsubscribes but does not close it.
 * - `new SwitchyardProvider(options)`: `initialize` creates the client with `createClient(options)`,
 *   and `onClose` (OpenFeature.close(), or replacing the provider) closes it.
 *
 * `initialize` resolves once the client hears the service (OpenFeature then emits READY). When it
 * does not within the client's init timeout (a bad token, the service down), it rejects, so OpenFeature
 * reports ERROR, but the provider keeps answering from whatever the client holds (bootstrap,
 * backup file, else FLAG_NOT_FOUND for every slice) and emits READY as soon as the service is heard.
 *
 * Events, after `initialize`: STALE when the client stops hearing the service (`status().connected`
 * turns false), ERROR when it is refused (401/403) or its URL is wrong (WRONG_URL) while not connected, READY when it hears the
 * service again, CONFIGURATION_CHANGED with `flagsChanged` = the slices that may decide differently
 * under a new revision.
 *
 * @example
 * ```ts
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import { SwitchyardProvider } from '@switchyard/client-sdk/openfeature';
 * await OpenFeature.setProviderAndWait(new SwitchyardProvider({ url, token, appName: 'payments-api' }));
 * const useNew = await OpenFeature.getClient().getBooleanValue('payments.provider.mpesa', false, { targetingKey: user.id });
 * ```
 */
export class SwitchyardProvider implements Provider {
  readonly metadata = { name: SWITCHYARD_PROVIDER_NAME } as const;
  readonly runsOn = 'server' as const;
  /** Provider events (READY after recovery, STALE, ERROR, CONFIGURATION_CHANGED); OpenFeature listens to it. */
  readonly events = new OpenFeatureEventEmitter();

  private current: SwitchyardClient | undefined;
  private readonly options: ClientOptions | undefined;
  private readonly owned: boolean;
  private subscriptions: (() => void)[] = [];
  /** Undefined until `initialize` settles and after `onClose`: no state events then. */
  private reported: ReportedState | undefined;
  /** True while the last answer since the connection was lost says only a configuration change helps: a refused token (401/403), a wrong URL. */
  private refused = false;
  private lastSeenError: ClientErrorInfo | null = null;
  /** Bumped by `onClose`: an `initialize` still creating its client then discards it. */
  private generation = 0;

  /**
   * @param clientOrOptions - a client to use (the host keeps owning it), or the options of the
   *   client that `initialize` creates (the provider owns it and closes it in `onClose`).
   */
  constructor(clientOrOptions: SwitchyardClient | ClientOptions) {
    if (isClient(clientOrOptions)) {
      this.current = clientOrOptions;
      this.owned = false;
    } else {
      this.options = clientOrOptions;
      this.owned = true;
    }
  }

  /** The client this provider decides with: undefined before `initialize` (and after `onClose`) when the provider creates its own. */
  get client(): SwitchyardClient | undefined {
    return this.current;
  }

  /**
   * Creates the client (when given options), subscribes to its changes and status, and resolves
   * when the service is heard. Rejects with a `ProviderFatalError` for invalid client options, and
   * with a `GeneralError` when the service is not heard (see the class comment: the provider still
   * answers, and emits READY once the service is heard).
   */
  async initialize(): Promise<void> {
    this.unsubscribe();
    const generation = ++this.generation;
    let client = this.current;
    if (client === undefined) {
      try {
        // createClient rejects only for invalid options: it waits for the service at most its init timeout.
        client = await createClient(this.options as ClientOptions);
      } catch (error) {
        throw new ProviderFatalError(`invalid Switchyard client options: ${describe(error)}`);
      }
      if (generation !== this.generation) {
        // Closed (or re-initialized) while the client was being created: nobody else would close this one.
        await client.close();
        throw new GeneralError('the Switchyard provider was closed before it was initialized');
      }
      this.current = client;
    }

    this.refused = false;
    this.lastSeenError = null;
    this.subscriptions = [client.onChange((event) => this.onChange(event)), client.onStatusChange((status) => this.onStatus(status))];
    const status = client.status();
    this.followRefusal(status);
    const state = this.stateOf(status);
    this.reported = state;
    if (state !== 'READY') throw new GeneralError(notHeardMessage(status, state));
  }

  /** Unsubscribes from the client, and closes it when the provider created it. */
  async onClose(): Promise<void> {
    this.generation++;
    this.unsubscribe();
    this.reported = undefined;
    const client = this.current;
    if (this.owned && client !== undefined) {
      this.current = undefined;
      await client.close();
    }
  }

  /**
   * The slice `flagKey` for this context: `true` for NEW. Synchronous under the hood (no I/O) and
   * never rejects. Reasons and context conversion: docs/openfeature.md (reasons.ts, context.ts).
   */
  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: OpenFeatureContext): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.resolveBoolean(flagKey, defaultValue, context));
  }

  /** Slices are boolean flags: the default, with TYPE_MISMATCH. */
  resolveStringEvaluation(flagKey: string, defaultValue: string): Promise<ResolutionDetails<string>> {
    return Promise.resolve(typeMismatch(flagKey, defaultValue, 'string'));
  }

  /** Slices are boolean flags: the default, with TYPE_MISMATCH. */
  resolveNumberEvaluation(flagKey: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    return Promise.resolve(typeMismatch(flagKey, defaultValue, 'number'));
  }

  /** Slices are boolean flags: the default, with TYPE_MISMATCH. */
  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T): Promise<ResolutionDetails<T>> {
    return Promise.resolve(typeMismatch(flagKey, defaultValue, 'object'));
  }

  /** `resolveBooleanEvaluation` without the promise. Never throws. */
  resolveBoolean(flagKey: string, defaultValue: boolean, context: OpenFeatureContext | null | undefined): ResolutionDetails<boolean> {
    const client = this.current;
    if (client === undefined) {
      return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.PROVIDER_NOT_READY, errorMessage: 'the Switchyard provider is not initialized' };
    }
    try {
      const decision = client.explain(flagKey, toSwitchyardContext(context, client.stickinessAttribute(flagKey)));
      return resolutionFor(flagKey, decision, defaultValue, client.status().revision);
    } catch (error) {
      // The client and the conversion do not throw; a hostile context (a throwing getter) might.
      return { value: defaultValue, reason: StandardResolutionReasons.ERROR, errorCode: ErrorCode.GENERAL, errorMessage: describe(error) };
    }
  }

  /**
   * OpenFeature's tracking: the event {@link OUTCOME_TRACKING_EVENT} records one call's outcome,
   * as `client.recordOutcome(flagKey, path, { ok: outcome === 'ok', durationMs: value })` does.
   * Details: `value` (the duration in milliseconds), `flagKey` (the slice), `path` (`NEW` or
   * `LEGACY`: the path that ran), `outcome` (`ok` or `failed`). Any other event name, or details
   * that do not say all four, are ignored. Never throws.
   */
  track(trackingEventName: string, _context: OpenFeatureContext, details: TrackingEventDetails): void {
    const client = this.current;
    if (trackingEventName !== OUTCOME_TRACKING_EVENT || client === undefined) return;
    try {
      if (typeof details !== 'object' || details === null) return;
      const { value, flagKey, path, outcome } = details;
      if (typeof flagKey !== 'string' || (path !== 'NEW' && path !== 'LEGACY') || (outcome !== 'ok' && outcome !== 'failed') || typeof value !== 'number') return;
      client.recordOutcome(flagKey, path, { ok: outcome === 'ok', durationMs: value });
    } catch {
      // Hostile details (a throwing getter): ignored, as the OpenFeature API expects of track.
    }
  }

  // ---------------------------------------------------------------- events

  private onChange(event: ChangeEvent): void {
    // A revision that changes no slice's decisions (an unused segment edited) is not worth an event.
    if (event.changedSlices.length === 0) return;
    this.events.emit(ProviderEvents.ConfigurationChanged, {
      flagsChanged: [...event.changedSlices],
      message: `Switchyard revision ${event.revision}`,
      metadata: { revision: event.revision },
    });
  }

  private onStatus(status: ClientStatus): void {
    if (this.reported === undefined) return;
    this.followRefusal(status);
    const state = this.stateOf(status);
    if (state === this.reported) return;
    this.reported = state;
    switch (state) {
      case 'READY':
        this.events.emit(ProviderEvents.Ready, { message: 'the Switchyard service is heard again', metadata: statusMetadata(status) });
        return;
      case 'STALE':
        this.events.emit(ProviderEvents.Stale, { message: notHeardMessage(status, state), metadata: statusMetadata(status) });
        return;
      case 'ERROR':
        this.events.emit(ProviderEvents.Error, { message: notHeardMessage(status, state), metadata: statusMetadata(status) });
        return;
    }
  }

  /**
   * Follows whether the service's latest answer, since the connection was lost, is a refusal (or
   * shows that the URL is wrong: no amount of waiting fixes either).
   * Errors are judged only while disconnected, so that one reported just before the connection
   * flips (the failure that ends it) still counts, while one from an earlier outage (`lastError`
   * is kept after recovery) does not. Only transport failures count: a backup file that cannot be
   * written says nothing about the token.
   */
  private followRefusal(status: ClientStatus): void {
    if (status.connected) {
      this.refused = false;
      return;
    }
    const error = status.lastError;
    if (error !== null && error !== this.lastSeenError && (error.operation === 'stream' || error.operation === 'poll')) {
      this.refused = error.code === 'UNAUTHORIZED' || error.code === 'FORBIDDEN' || error.code === 'WRONG_URL';
    }
    this.lastSeenError = error;
  }

  private stateOf(status: ClientStatus): ReportedState {
    if (status.connected) return 'READY';
    return this.refused ? 'ERROR' : 'STALE';
  }

  private unsubscribe(): void {
    for (const unsubscribe of this.subscriptions.splice(0)) unsubscribe();
  }
}

function isClient(value: SwitchyardClient | ClientOptions): value is SwitchyardClient {
  return typeof (value as Partial<SwitchyardClient> | null)?.explain === 'function';
}

function typeMismatch<T>(flagKey: string, defaultValue: T, type: string): ResolutionDetails<T> {
  return {
    value: defaultValue,
    reason: StandardResolutionReasons.ERROR,
    errorCode: ErrorCode.TYPE_MISMATCH,
    errorMessage: `Switchyard slices are boolean flags (true = NEW): "${flagKey}" cannot be read as a ${type}`,
  };
}

function notHeardMessage(status: ClientStatus, state: ReportedState): string {
  const error = status.lastError;
  const cause = error === null ? '' : ` (${error.code}${error.httpStatus === undefined ? '' : ` ${error.httpStatus}`}: ${error.message})`;
  const since = status.staleSince === null ? '' : ` since ${status.staleSince.toISOString()}`;
  const what = state !== 'ERROR' ? 'the Switchyard service is not heard' : error?.code === 'WRONG_URL' ? 'the Switchyard URL is wrong' : 'the Switchyard service refuses the token';
  const holding = status.revision === null ? 'no configuration yet: every slice is unknown' : `deciding from revision ${status.revision} (${status.source})`;
  return `${what}${since}${cause}; ${holding}`;
}

function statusMetadata(status: ClientStatus): EventMetadata {
  const metadata: EventMetadata = { state: status.state, source: status.source };
  if (status.revision !== null) metadata.revision = status.revision;
  if (status.staleSince !== null) metadata.staleSince = status.staleSince.toISOString();
  if (status.lastError !== null) metadata.lastErrorCode = status.lastError.code;
  return metadata;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
