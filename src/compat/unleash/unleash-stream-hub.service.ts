import type { IncomingMessage, ServerResponse } from 'node:http';
import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { ApiTokensService } from '../../auth/api-tokens.service.js';
import type { Principal } from '../../access/roles.js';
import { APP_CONFIG, type AppConfig } from '../../config/env.js';
import { startEventStream } from '../../delivery/event-stream-response.js';
import { EventStreamSet } from '../../delivery/event-stream-set.js';
import { type ClientLevel, levelOfHeader } from './unleash-constraints.js';
import { type ClientHeaders, UnleashClientRegistry } from './unleash-client-registry.service.js';
import { type PublishedToggles, type PublishedView, UnleashFeaturesService } from './unleash-features.service.js';

/**
 * A comment line: every EventSource ignores it, and it keeps the connection's read timeout from
 * firing (unleash-client gives up on a silent stream after 60 s). Not an event: the Go SDK warns
 * about every event type it does not know.
 */
const HEARTBEAT = Buffer.from(': heartbeat\n\n');

/**
 * One Unleash SDK stream, of one client level (fixed by the `Unleash-Client-Spec` it connected
 * with). `held` is the revision whose toggles the client holds. While the socket buffer is full
 * nothing is written; on 'drain' the client catches up in one event.
 */
class UnleashStream {
  held: number;

  constructor(
    readonly res: ServerResponse,
    readonly level: ClientLevel,
    held: number,
    /** Told the revision of every event written (the registry: which SDK holds what). */
    private readonly served: (revision: number) => void,
  ) {
    this.held = held;
  }

  /** Brings the client to `view`: nothing if it holds it, a delta if it holds the previous toggles, else a hydration. */
  catchUp(view: PublishedView): void {
    const current = view.toggles(this.level);
    if (this.res.writableEnded || this.res.writableNeedDrain || isCurrent(this.held, current)) return;
    const delta = current.delta;
    const event = delta !== null && this.held >= delta.from.sameSince && this.held <= delta.from.revision ? delta.event : current.rehydrate;
    this.res.write(event);
    this.held = current.revision;
    this.served(current.revision);
  }

  write(chunk: Buffer | string): void {
    if (!this.res.writableNeedDrain) this.res.write(chunk);
  }
}

function isCurrent(held: number, current: PublishedToggles): boolean {
  return held >= current.sameSince && held <= current.revision;
}

/** Parses `Last-Event-ID`: a revision, or -1 when absent or not one. */
function lastEventId(req: IncomingMessage): number {
  const raw = req.headers['last-event-id'];
  const id = typeof raw === 'string' ? raw.trim() : undefined;
  return id !== undefined && /^\d{1,15}$/.test(id) ? Number(id) : -1;
}

/**
 * Every open Unleash streaming connection of this instance (GET /api/client/streaming), in the
 * format of unleash-client 6.x's streaming mode (repository/streaming-fetcher.js): on connect
 * `unleash-connected` with a hydration (skipped when `Last-Event-ID` shows the client current),
 * then `unleash-updated` with the changes of every new revision, each event's `id` its revision.
 * Each stream gets the toggles of its client level (UnleashFeaturesService).
 */
@Injectable()
export class UnleashStreamHub implements OnModuleDestroy {
  private readonly streams: EventStreamSet<UnleashStream, PublishedView>;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly features: UnleashFeaturesService,
    private readonly registry: UnleashClientRegistry,
    tokens: ApiTokensService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.streams = new EventStreamSet<UnleashStream, PublishedView>((stream, view) => stream.catchUp(view), tokens);
    this.unsubscribe = features.subscribe((view) => this.streams.broadcast(view));
    this.heartbeat = setInterval(() => this.beat(), config.streamHeartbeatMs);
    this.heartbeat.unref();
  }

  /** How many Unleash streams are open on this instance. */
  get size(): number {
    return this.streams.size;
  }

  /**
   * Starts a stream on `res` for the SDK named by `client` (recorded in the registry as it is
   * served), until the principal's token is revoked or expires (see EventStreamSet.add).
   */
  open(req: IncomingMessage, res: ServerResponse, view: PublishedView, client: ClientHeaders, principal: Principal): void {
    const level = levelOfHeader(client.clientSpec);
    const current = view.toggles(level);
    startEventStream(req, res);
    const held = lastEventId(req);
    const stream = new UnleashStream(res, level, held, (revision) => this.registry.recordServed(client, revision));
    if (!isCurrent(held, current)) {
      res.write(current.connected);
      stream.held = current.revision;
    }
    this.registry.recordServed(client, current.revision);
    res.on('drain', () => {
      const latest = this.features.current();
      if (latest !== null) stream.catchUp(latest);
    });
    this.streams.add(stream, principal);
  }

  /** First thing at shutdown, as for SDK streams: see EventStreamSet.endAll. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.heartbeat);
    this.unsubscribe();
    await this.streams.endAll();
  }

  private beat(): void {
    this.streams.forEach((stream) => stream.write(HEARTBEAT));
  }
}
