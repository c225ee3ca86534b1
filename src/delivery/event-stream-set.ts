import type { ServerResponse } from 'node:http';
import type { Principal } from '../access/roles.js';

/** Streams written per turn of the event loop when an event fans out. */
const FANOUT_BATCH = 500;

/** How long a shutdown waits for streams to flush their end (a stuck client must not hold it up). */
const SHUTDOWN_FLUSH_MS = 1_000;

/**
 * Tells a stream set when the token a stream was opened with stops being valid (ApiTokensService).
 * A stream is authenticated once, when it opens: without this it would go on receiving the
 * configuration after its token was revoked or expired.
 */
export interface TokenWithdrawals {
  /** Calls `onWithdrawn` once when the principal's token is revoked or expires; returns the function that stops watching. */
  watch(principal: Principal, onWithdrawn: () => void): () => void;
}

/**
 * The open event streams of one hub (SDK streams in StreamHub, Unleash streams in
 * UnleashStreamHub): what both do alike with them, around the hub's own `deliver`, which writes
 * one published event to one stream (a delta, the whole state, or nothing for a stream that has it).
 */
export class EventStreamSet<S extends { readonly res: ServerResponse }, E> {
  private readonly streams = new Set<S>();
  private latest: E | null = null;

  constructor(
    private readonly deliver: (stream: S, event: E) => void,
    private readonly tokens: TokenWithdrawals,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  /**
   * Adds a stream until its response closes or fails, or the token it was opened with (that of
   * `principal`) is revoked or expires: then the stream is ended, cleanly (the response's end,
   * the connection left open). The client reconnects, as after any end, and is refused (401):
   * the SDKs report the refused token as they do for any request.
   */
  add(stream: S, principal: Principal): void {
    this.streams.add(stream);
    const unwatch = this.tokens.watch(principal, () => this.end(stream));
    const remove = () => {
      this.streams.delete(stream);
      unwatch();
    };
    stream.res.on('close', remove);
    stream.res.on('error', remove);
  }

  /** Calls `write` on every open stream now (heartbeats: a few bytes each, in one turn). */
  forEach(write: (stream: S) => void): void {
    for (const stream of this.streams) write(stream);
  }

  /**
   * Delivers `event` to every open stream, FANOUT_BATCH per turn of the event loop: writing to
   * 10,000 sockets takes a few hundred ms of CPU, which must not block every other request (or the
   * next rollback) meanwhile. A newer event that overtakes this one stops it, so an older event
   * never follows a newer one; a stream opened meanwhile got the current state when it opened.
   */
  broadcast(event: E): void {
    this.latest = event;
    const targets = [...this.streams];
    const writeFrom = (start: number) => {
      const end = Math.min(start + FANOUT_BATCH, targets.length);
      for (let i = start; i < end && this.latest === event; i++) {
        const stream = targets[i]!;
        if (this.streams.has(stream)) this.deliver(stream, event);
      }
      if (end < targets.length && this.latest === event) setImmediate(writeFrom, end);
    };
    writeFrom(0);
  }

  /** Ends one stream now: nothing more is delivered to it. */
  private end(stream: S): void {
    if (!this.streams.delete(stream)) return;
    stream.res.end();
  }

  /**
   * Ends every stream, at shutdown. Called first thing (onModuleDestroy, not a later hook):
   * Apollo's drain, in GraphQLModule's own onModuleDestroy, closes the HTTP server and waits up to
   * 10 s for open responses, and a stream never ends by itself. Each response is ended, flushed,
   * and its socket half-closed (FIN) before the drain may destroy idle sockets: a destroyed socket
   * can reset the connection before the client has read the end. Resolves when all are flushed,
   * or after SHUTDOWN_FLUSH_MS. The clients reconnect (to another instance) and keep what they
   * hold meanwhile.
   */
  async endAll(): Promise<void> {
    const ends = [...this.streams].map(
      ({ res }) =>
        new Promise<void>((resolve) => {
          // Taken now: by the time the end is flushed, Node has detached the socket from `res`.
          const socket = res.socket;
          res.end(() => {
            socket?.end();
            resolve();
          });
        }),
    );
    this.streams.clear();
    await Promise.race([Promise.all(ends), new Promise((resolve) => setTimeout(resolve, SHUTDOWN_FLUSH_MS).unref())]);
  }
}
