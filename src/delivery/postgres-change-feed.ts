import { Logger } from '@nestjs/common';
import pg from 'pg';
import { CHANGES_CHANNEL } from '../history/history-action.js';
import { type ChangeFeed, type ChangeFeedListener, parseRevision } from './change-feed.js';

const RECONNECT_INITIAL_MS = 100;
const RECONNECT_MAX_MS = 5_000;

/**
 * LISTEN on a connection of its own (not from the pool: a pooled connection is handed to other
 * queries and would drop the LISTEN). When that connection breaks it reconnects with capped
 * backoff and tells the listener to resynchronize: no revision is ever missed, only late.
 */
export class PostgresChangeFeed implements ChangeFeed {
  private readonly logger = new Logger(PostgresChangeFeed.name);
  private client: pg.Client | null = null;
  private listener: ChangeFeedListener | null = null;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private delayMs = RECONNECT_INITIAL_MS;

  constructor(private readonly databaseUrl: string) {}

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
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'switchyard-change-feed', keepAlive: true });
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
    this.delayMs = RECONNECT_INITIAL_MS;
    this.listener?.onConnected();
  }

  private lost(client: pg.Client, error: Error | null): void {
    if (this.stopped || this.client !== client) return;
    this.client = null;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    this.logger.warn({ msg: 'change feed connection lost; reconnecting', error: error?.message, retryInMs: this.delayMs });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.connect();
    }, this.delayMs);
    this.delayMs = Math.min(this.delayMs * 2, RECONNECT_MAX_MS);
  }
}
