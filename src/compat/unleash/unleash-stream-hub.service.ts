import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiTokensService } from '../../auth/api-tokens.service.js';
import type { Principal } from '../../auth/roles.js';
import { APP_CONFIG, type AppConfig } from '../../config/env.js';
import { startEventStream } from '../../delivery/event-stream-response.js';
import { EventStreamSet } from '../../delivery/event-stream-set.js';
import { type ClientHeaders, UnleashClientRegistry } from './unleash-client-registry.service.js';
import { type PublishedToggles, UnleashFeaturesService } from './unleash-features.service.js';

/**
 * A comment line: every EventSource ignores it, and it keeps the connection's read timeout from
 * firing (unleash-client gives up on a silent stream after 60 s). Not an event: the Go SDK warns
 * about every event type it does not know.
 */
const HEARTBEAT = Buffer.from(': heartbeat\n\n');

/**
 * One Unleash SDK stream. `held` is the revision whose toggles the client holds. While the socket
 * buffer is full nothing is written; on 'drain' the client catches up in one event.
 */
class UnleashStream {
  held: number;

  constructor(
    readonly res: Response,
    held: number,
    /** Told the revision of every event written (the registry: which SDK holds what). */
    private readonly served: (revision: number) => void,
  ) {
    this.held = held;
  }

  /** Brings the client to `current`: nothing if it holds it, a delta if it holds the previous toggles, else a hydration. */
  catchUp(current: PublishedToggles): void {
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
function lastEventId(req: Request): number {
  const raw = req.header('last-event-id')?.trim();
  return raw !== undefined && /^\d{1,15}$/.test(raw) ? Number(raw) : -1;
}

/**
 * Every open Unleash streaming connection of this instance (GET /api/client/streaming), in the
 * format of unleash-client 6.x's streaming mode (repository/streaming-fetcher.js): on connect
 * `unleash-connected` with a hydration (skipped when `Last-Event-ID` shows the client current),
 * then `unleash-updated` with the changes of every new revision, each event's `id` its revision.
 */
@Injectable()
export class UnleashStreamHub implements OnModuleDestroy {
  private readonly streams: EventStreamSet<UnleashStream, PublishedToggles>;
  private readonly heartbeat: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly features: UnleashFeaturesService,
    private readonly registry: UnleashClientRegistry,
    tokens: ApiTokensService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.streams = new EventStreamSet<UnleashStream, PublishedToggles>((stream, toggles) => stream.catchUp(toggles), tokens);
    this.unsubscribe = features.subscribe((toggles) => this.streams.broadcast(toggles));
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
  open(req: Request, res: Response, current: PublishedToggles, client: ClientHeaders, principal: Principal): void {
    startEventStream(req, res);
    const held = lastEventId(req);
    const stream = new UnleashStream(res, held, (revision) => this.registry.recordServed(client, revision));
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
