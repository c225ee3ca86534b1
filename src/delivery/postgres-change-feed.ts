import { Logger } from '@nestjs/common';
import pg from 'pg';
import { type DatabaseTimeouts, discardConnection, readTimeoutMs } from '../database/connection-timeouts.js';
import { CHANGES_CHANNEL } from '../changes/change-notices.repository.js';
import { type ChangeFeed, type ChangeFeedListener, parseRevision } from './change-feed.js';
import { ReconnectSchedule } from './reconnect-schedule.js';

export interface PostgresChangeFeedOptions {
  readonly databaseUrl: string;
  readonly timeouts: DatabaseTimeouts;
  /** How often the connection is probed (see `probe`). */
  readonly probeEveryMs: number;
}

/**
 * LISTEN on a connection of its own (not from the pool: a pooled connection is handed to other
 * queries and would drop the LISTEN). When that connection breaks it reconnects (at once the
 * first time, then with capped backoff: ReconnectSchedule; a connection counts as healthy once a
 * probe got an answer) and tells the listener to resynchronize: no revision is ever missed, only
 * late.
 *
 * A connection that breaks by closing is noticed at once. One that goes silent (a frozen network
 * drops packets and closes nothing) would never be: a LISTEN connection only ever receives. So it
 * is probed every `probeEveryMs` with a statement of its own, and one that does not answer
 * within the read timeout is given up and replaced.
 */
export class PostgresChangeFeed implements ChangeFeed {
  private readonly logger = new Logger(PostgresChangeFeed.name);
  private client: pg.Client | null = null;
  private listener: ChangeFeedListener | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private readonly schedule = new ReconnectSchedule();
  /** Attempts since the last connection was lost (0 while connected): for the log. */
  private attempts = 0;

  constructor(private readonly options: PostgresChangeFeedOptions) {}

  async start(listener: ChangeFeedListener): Promise<void> {
    this.listener = listener;
    this.stopped = false;
    // The first connection is attempted at once; if the database is down, retries go on in the
    // background and the service starts anyway (it serves what it has).
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stopProbing();
    const client = this.client;
    this.client = null;
    if (client === null) return;
    // A polite goodbye, but not waited for longer than a connection may take to open: on a frozen
    // connection it would never be answered, and shutdown must not hang on it.
    let timer: NodeJS.Timeout | undefined;
    const patience = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.options.timeouts.connectMs);
    });
    await Promise.race([client.end().catch(() => undefined), patience]).finally(() => clearTimeout(timer));
    discardConnection(client);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: 'switchyard-change-feed',
      keepAlive: true,
      connectionTimeoutMillis: this.options.timeouts.connectMs,
      query_timeout: readTimeoutMs(this.options.timeouts),
    });
    // The client being connected or connected; events of an older one are ignored.
    this.client = client;
    client.on('notification', (message) => {
      const revision = message.channel === CHANGES_CHANNEL ? parseRevision(message.payload) : null;
      if (revision !== null) this.listener?.onRevision(revision);
    });
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
    } catch (error) {
      this.lost(client, error as Error);
      return;
    }
    if (this.stopped || this.client !== client) {
      await client.end().catch(() => undefined);
      return;
    }
    if (this.attempts > 0) this.logger.log({ msg: 'change feed reconnected', attempts: this.attempts });
    this.attempts = 0;
    this.startProbing(client);
    this.listener?.onConnected();
  }

  /**
   * One statement at a time, every probeEveryMs: an answer proves the connection alive; an error
   * (a read timeout on a frozen connection, or the connection closing) means it is lost.
   */
  private startProbing(client: pg.Client): void {
    this.stopProbing();
    const probe = () => {
      this.probeTimer = null;
      client.query('SELECT 1').then(
        () => {
          if (this.client !== client || this.stopped) return;
          this.schedule.healthy();
          this.probeTimer = setTimeout(probe, this.options.probeEveryMs).unref();
        },
        (error: Error) => this.lost(client, error),
      );
    };
    this.probeTimer = setTimeout(probe, this.options.probeEveryMs).unref();
  }

  private stopProbing(): void {
    if (this.probeTimer !== null) clearTimeout(this.probeTimer);
    this.probeTimer = null;
  }

  private lost(client: pg.Client, error: Error | null): void {
    if (this.stopped || this.client !== client) return;
    this.client = null;
    this.stopProbing();
    client.removeAllListeners('end');
    client.removeAllListeners('notification');
    // Not a polite end(): on a frozen connection its goodbye would wait for an answer that never
    // comes. (A late 'error' from the destroyed socket comes to the listener above, which ignores
    // a client that is no longer the current one.)
    discardConnection(client);
    const delayMs = this.schedule.nextDelayMs();
    if (this.attempts++ === 0) this.logger.warn({ msg: 'change feed connection lost; reconnecting', error: error?.message, retryInMs: delayMs });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, delayMs);
  }
}
