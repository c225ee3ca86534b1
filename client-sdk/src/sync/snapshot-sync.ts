/**
 * The snapshot synchroniser: keeps the held snapshot current. The stream first (a delta per
 * revision on top of the one held, else the whole snapshot: PROTOCOL.md), polling while the stream
 * is unavailable, capped backoff with jitter between failed attempts; and whether the service is
 * heard (`connected`, `staleSince`).
 *
 * Every decision about when to fetch what is taken here, in one place, with the reason next to
 * it. The transport modules (transport/) only fetch and never decide; the holder (snapshot/) only
 * installs what it is offered and says when it needs the whole snapshot. Whatever happens here,
 * the last good snapshot keeps answering, and trouble goes to `report`, never thrown.
 *
 * Time comes from the injected clock (ports/clock.ts): the wait between attempts and the poll
 * schedule are the clock's timers, so tests move through them without sleeping.
 */
import { describeError, retriesAtCappedRate, SwitchyardError, type SwitchyardOperation } from '../errors.js';
import type { Clock, Random } from '../ports/clock.js';
import type { DeltaOutcome } from '../snapshot/snapshot-holder.js';
import type { TransportContext } from '../transport/http.js';
import { fetchSnapshot } from '../transport/poll.js';
import type { ServerSentEvent } from '../transport/sse-parser.js';
import { readStream } from '../transport/stream.js';
import { Backoff, type BackoffOptions } from './backoff.js';

/** What the synchroniser needs of the snapshot holder. */
export interface SyncTarget {
  /** The revision held from the service, if any: sent so the service can skip what is current. */
  heldServiceRevision(): number | undefined;
  offerSnapshot(text: string, operation: 'stream' | 'poll'): void;
  offerDelta(text: string): DeltaOutcome;
}

export interface SnapshotSyncOptions {
  readonly transport: TransportContext;
  /** False: poll only. */
  readonly streaming: boolean;
  readonly pollIntervalMs: number;
  readonly backoff: BackoffOptions;
  readonly clock: Clock;
  readonly random: Random;
  readonly target: SyncTarget;
  /** Told every failed attempt. */
  readonly report: (error: SwitchyardError) => void;
  /** Told when the service starts or stops being heard (`connected` flips). */
  readonly onConnectedChange: () => void;
}

/** Where the synchroniser stands (the client adds `closed`). */
export type SyncState = 'connecting' | 'streaming' | 'polling';

export class SnapshotSync {
  private closed = false;
  /** Aborted by close(): cancels requests in flight and wakes sleeping loops. */
  private readonly lifetime = new AbortController();

  private everConnected = false;
  private streamOpen = false;
  private isConnected = false;
  private stale: Date | null = null;

  private readonly streamBackoff: Backoff;
  private readonly pollBackoff: Backoff;
  private streamTask: Promise<void> | undefined;
  /** True while polls are scheduled (the stream is down, or streaming is off). */
  private polling = false;
  private cancelPollTimer: (() => void) | undefined;
  /** The poll in flight: at most one at a time. */
  private pollTask: Promise<void> | undefined;
  /** Someone asked for a poll while one was in flight: run another when it ends (its answer may predate the ask). */
  private pollAgain = false;

  constructor(private readonly options: SnapshotSyncOptions) {
    this.streamBackoff = new Backoff(options.backoff, options.random);
    this.pollBackoff = new Backoff(options.backoff, options.random);
  }

  /** `connecting` until the service is first heard, `streaming` while the stream is up, `polling` while it is not. */
  get state(): SyncState {
    return this.streamOpen ? 'streaming' : this.everConnected ? 'polling' : 'connecting';
  }

  /** True while the service is heard: the stream is open, or the last poll succeeded. */
  get connected(): boolean {
    return this.isConnected;
  }

  /** When the service stopped being heard (null while connected, or before the first attempt ended). */
  get staleSince(): Date | null {
    return this.stale;
  }

  start(): void {
    if (this.options.streaming) this.streamTask = this.runStream().catch((error: unknown) => this.internalError(error, 'stream'));
    else this.startPolling(0);
  }

  /** Stops the stream, polling and timers; resolves when the requests in flight have ended. */
  async close(): Promise<void> {
    this.closed = true;
    this.streamOpen = false;
    this.markDisconnected();
    this.stopPolling();
    this.lifetime.abort(new Error('the Switchyard client was closed'));
    await Promise.allSettled([this.streamTask, this.pollTask]);
  }

  /**
   * The loops catch every failure they expect; this catches the ones they do not (a bug), so that
   * it is reported instead of becoming an unhandled rejection that would end the host process.
   */
  private internalError(error: unknown, operation: SwitchyardOperation): void {
    this.options.report(new SwitchyardError('INTERNAL_ERROR', operation, `unexpected failure in the Switchyard SDK: ${describeError(error)}`, { cause: error }));
  }

  // ---------------------------------------------------------------- the stream

  private async runStream(): Promise<void> {
    const { transport, target } = this.options;
    while (!this.closed) {
      let failure: SwitchyardError | undefined;
      try {
        await readStream(transport, target.heldServiceRevision(), this.lifetime.signal, {
          onOpen: () => this.onStreamOpen(),
          onEvent: (event) => this.onStreamEvent(event),
        });
        // The service ended the stream (a deploy, a load balancer recycling long connections).
        // Not reported: nothing has failed yet; if reconnecting fails, that attempt is.
      } catch (error) {
        if (this.closed) return;
        failure = asSwitchyardError(error, 'stream');
        this.options.report(failure);
      }
      this.streamOpen = false;
      if (this.closed) return;
      this.markDisconnected();

      // Poll while the stream is down. Right away when we hold nothing from the service (at start,
      // the host is waiting for configuration); otherwise at a random point of the first interval,
      // so that the SDKs of a whole fleet that lost the same instance do not all poll at once.
      const holdsServiceSnapshot = target.heldServiceRevision() !== undefined;
      this.startPolling(holdsServiceSnapshot ? Math.floor(this.options.random() * this.options.pollIntervalMs) : 0);

      // 401/403, a wrong URL: a bad token, role or address will not fix itself: retry only at the
      // capped rate (not never: a token fixed on the service side is picked up without restarting
      // the host).
      // Everything else (5xx, 429, network, silence, the service ending the stream): capped
      // exponential backoff with jitter, reset once a connection proves healthy (a heartbeat).
      const delay = failure !== undefined && retriesAtCappedRate(failure) ? this.streamBackoff.capped() : this.streamBackoff.next();
      await this.sleep(delay);
    }
  }

  private onStreamOpen(): void {
    this.streamOpen = true;
    this.everConnected = true;
    this.markConnected();
    // The stream carries every revision: polling would only duplicate it.
    this.stopPolling();
  }

  private onStreamEvent(event: ServerSentEvent): void {
    if (this.closed) return;
    switch (event.type) {
      case 'snapshot':
        this.options.target.offerSnapshot(event.data, 'stream');
        return;
      case 'delta':
        // Not applicable to what we hold (an event was missed, or a poll moved us), or unusable:
        // the whole snapshot repairs it.
        if (this.options.target.offerDelta(event.data) === 'needs-snapshot') this.requestPoll();
        return;
      case 'heartbeat':
        this.onHeartbeat(event.data);
        return;
      default:
      // Unknown event types are ignored: the service may add some without breaking older SDKs.
    }
  }

  private onHeartbeat(data: string): void {
    let revision: unknown;
    try {
      revision = (JSON.parse(data) as { revision?: unknown } | null)?.revision;
    } catch {
      revision = undefined;
    }
    if (typeof revision !== 'number' || !Number.isFinite(revision)) {
      // Reported but not fatal: the stream still proves the connection alive.
      this.options.report(new SwitchyardError('STREAM_PROTOCOL', 'stream', `a heartbeat without a numeric revision: ${truncate(data)}`));
      return;
    }
    // A heartbeat is the service's sign that the connection is in a steady state: only now does a
    // later drop start again from the shortest backoff (a stream dropped right after opening, again
    // and again, keeps backing off).
    this.streamBackoff.reset();
    const held = this.options.target.heldServiceRevision();
    // The service is ahead of us: we missed an event (or it was unreadable). Fetch the snapshot now
    // rather than wait for the next event, which may not come before the next change.
    if (held === undefined || revision > held) this.requestPoll();
  }

  // ---------------------------------------------------------------- polling

  private startPolling(firstDelayMs: number): void {
    if (this.polling || this.closed) return;
    this.polling = true;
    // A poll in flight reschedules itself when it ends.
    if (this.pollTask === undefined) this.schedulePoll(firstDelayMs);
  }

  private stopPolling(): void {
    this.polling = false;
    this.cancelPollTimer?.();
    this.cancelPollTimer = undefined;
  }

  private schedulePoll(delayMs: number): void {
    this.cancelPollTimer?.();
    this.cancelPollTimer = this.options.clock.setTimer(() => {
      this.cancelPollTimer = undefined;
      this.requestPoll();
    }, delayMs);
  }

  /** Polls now, unless a poll is in flight (then once more after it). */
  private requestPoll(): void {
    if (this.closed) return;
    if (this.pollTask !== undefined) {
      this.pollAgain = true;
      return;
    }
    this.pollTask = this.runPolls().catch((error: unknown) => this.internalError(error, 'poll'));
  }

  private async runPolls(): Promise<void> {
    let nextDelay: number;
    try {
      do {
        this.pollAgain = false;
        nextDelay = await this.pollOnce();
      } while (this.pollAgain && !this.closed);
    } finally {
      this.pollTask = undefined;
    }
    if (this.polling && !this.closed) this.schedulePoll(nextDelay);
  }

  /** One snapshot request. Returns the delay before the next scheduled poll. */
  private async pollOnce(): Promise<number> {
    const { pollIntervalMs: interval, transport, target } = this.options;
    try {
      const result = await fetchSnapshot(transport, target.heldServiceRevision(), this.lifetime.signal);
      if (this.closed) return interval;
      this.pollBackoff.reset();
      this.everConnected = true;
      this.markConnected();
      // 304: what we hold is current; nothing to do.
      if (result.kind === 'snapshot') target.offerSnapshot(result.text, 'poll');
      return interval;
    } catch (error) {
      if (this.closed) return interval;
      const failure = asSwitchyardError(error, 'poll');
      this.options.report(failure);
      // A failed poll while the stream is open (one asked for by a heartbeat) does not make us
      // disconnected: the stream still delivers.
      if (!this.streamOpen) this.markDisconnected();
      // 401/403, a wrong URL: retry at the capped rate only (see runStream). Others: back off, but
      // never poll more often than the configured interval.
      return Math.max(interval, retriesAtCappedRate(failure) ? this.pollBackoff.capped() : this.pollBackoff.next());
    }
  }

  // ---------------------------------------------------------------- bookkeeping

  private markConnected(): void {
    const flipped = !this.isConnected;
    this.isConnected = true;
    this.stale = null;
    if (flipped) this.options.onConnectedChange();
  }

  private markDisconnected(): void {
    const flipped = this.isConnected;
    this.isConnected = false;
    this.stale ??= this.options.clock.now();
    if (flipped) this.options.onConnectedChange();
  }

  /** Waits `ms` on the clock, or less if the client closes. */
  private sleep(ms: number): Promise<void> {
    const signal = this.lifetime.signal;
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve();
        return;
      }
      const done = (): void => {
        cancel();
        signal.removeEventListener('abort', done);
        resolve();
      };
      const cancel = this.options.clock.setTimer(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

function asSwitchyardError(error: unknown, operation: SwitchyardOperation): SwitchyardError {
  if (error instanceof SwitchyardError) return error;
  return new SwitchyardError('NETWORK_ERROR', operation, describeError(error), { cause: error });
}

function truncate(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}...` : text;
}
