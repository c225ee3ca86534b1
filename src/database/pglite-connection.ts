import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

// The CommonJS build, the one pg itself loads: pg-protocol's ESM wrapper is a `.js` file in a
// package without `"type": "module"`, which Node accepts but Jest does not.
const { parse, serialize } = createRequire(import.meta.url)('pg-protocol') as typeof import('pg-protocol');

/**
 * What node-postgres calls a connection, for the embedded engine: it hands each protocol message
 * to PGlite's single session and emits the answer's messages, as pg's own Connection does for a
 * socket.
 *
 * Why not PGlite's own node-postgres adapter (`@electric-sql/pglite/node-postgres`): it decodes
 * every text field with a `TextDecoder` that strips a leading U+FEFF, so a reason or description
 * that starts with a byte order mark was stored exactly but read back one character short, and
 * the history row's hash no longer matched what verification read (found by
 * test/e2e/hostile-text). Here PGlite answers with raw protocol bytes and pg's own parser
 * (pg-protocol, the one every pg socket uses) reads them, so both engines return text alike.
 * Everything else follows that adapter: one message at a time, in order, on PGlite's session;
 * engine failures are emitted as 'error'.
 *
 * If you upgrade PGlite: the adapter's decoding may be fixed; the hostile-text test shows it.
 */
export class PgliteConnection extends EventEmitter {
  /** pg reads and writes these on its connection. */
  _connecting = false;
  readonly parsedStatements: Record<string, unknown> = {};
  readonly submittedNamedStatements: Record<string, unknown> = {};
  /** pg calls `stream.destroy()` when a connection times out or fails. */
  readonly stream = { destroy: () => this.end() };

  /** PGlite takes one message at a time: each waits for the one before. */
  private queue: Promise<unknown>;
  /** pg-protocol's parser reads 'data' events from a stream; this is that stream. */
  private readonly incoming = new EventEmitter();
  private emitMessages = false;

  constructor(private readonly pglite: PGlite) {
    super();
    this.queue = pglite.waitReady;
    this.on('newListener', (event) => {
      if (event === 'message') this.emitMessages = true;
    });
    void parse(this.incoming as unknown as NodeJS.ReadableStream, (message) => {
      if (this.emitMessages) this.emit('message', message);
      this.emit(message.name === 'error' ? 'errorMessage' : message.name, message);
    });
  }

  /** No socket and no start-up exchange: the session is ready once PGlite is. */
  async connect(): Promise<void> {
    this._connecting = true;
    await this.pglite.waitReady;
    process.nextTick(() => this.emit('readyForQuery'));
  }

  requestSsl(): void {}
  startup(): void {}
  cancel(): void {}
  password(): void {}
  ref(): void {}
  unref(): void {}

  query(text: string): void {
    this.send(serialize.query(text));
  }
  parse(query: Parameters<typeof serialize.parse>[0]): void {
    this.send(serialize.parse(query));
  }
  bind(config: Parameters<typeof serialize.bind>[0]): void {
    this.send(serialize.bind(config));
  }
  execute(config: Parameters<typeof serialize.execute>[0]): void {
    this.send(serialize.execute(config));
  }
  describe(message: Parameters<typeof serialize.describe>[0]): void {
    this.send(serialize.describe(message));
  }
  close(message: Parameters<typeof serialize.close>[0]): void {
    this.send(serialize.close(message));
  }
  flush(): void {
    this.send(serialize.flush());
  }
  sync(): void {
    this.send(serialize.sync());
  }
  sendCopyFromChunk(chunk: Buffer): void {
    this.send(serialize.copyData(chunk));
  }
  endCopyFrom(): void {
    this.send(serialize.copyDone());
  }
  sendCopyFail(message: string): void {
    this.send(serialize.copyFail(message));
  }

  /**
   * The pool ends a client; PGlite's session stays open (the engine is closed by
   * EmbeddedDatabaseModule). Listeners go, as the adapter did, after what is queued has run.
   */
  end(): void {
    this.queue = this.queue.then(() => this.emit('end'));
    for (const event of this.eventNames()) if (event !== 'newListener') this.removeAllListeners(event);
    this.emitMessages = false;
  }

  private send(message: Uint8Array): void {
    this.queue = this.queue
      .then(() => this.pglite.execProtocolRaw(message))
      .then((answer) => {
        // A copy: the answer is a view of PGlite's receive buffer, which the next message reuses.
        if (answer.length > 0) this.incoming.emit('data', Buffer.from(answer));
      })
      .catch((error: unknown) => {
        // The engine failed mid-message (closed, crashed). The query waiting for this answer
        // fails through pg and becomes SERVICE_UNAVAILABLE. After end() nobody listens, and an
        // unheard 'error' would throw and end the process: dropped then.
        if (this.listenerCount('error') > 0) this.emit('error', error);
      });
  }
}

/**
 * A node-postgres Client on the embedded engine: its own PgliteConnection per client (so a client
 * the pool ends cannot take another's listeners with it), all on PGlite's one session. The pool
 * has one client at a time (see data-source-options.ts), which is what keeps transactions apart.
 */
export function pgliteClientClass(pglite: PGlite): typeof pg.Client {
  return class PgliteClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connection: new PgliteConnection(pglite) } as pg.ClientConfig);
    }
  };
}
