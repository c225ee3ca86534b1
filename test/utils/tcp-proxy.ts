import { createServer, type Server, type Socket, connect } from 'node:net';

/** One client connection and its upstream (null while frozen: nothing reached the target). */
interface Link {
  readonly client: Socket;
  upstream: Socket | null;
  /** Lost to a freeze: forwards nothing, ever again, and tells neither end that the other closed. */
  blackHoled: boolean;
}

/**
 * A real TCP proxy on 127.0.0.1, between an SDK and the service or between the service and
 * PostgreSQL, for two kinds of network fault:
 *
 * - `cut()` drops every connection and stops listening (connections are refused), `restore()`
 *   listens on the same port again: a peer that is gone, which both ends notice at once.
 * - `freeze()` stops forwarding without closing anything: every open connection becomes a black
 *   hole (bytes are read and dropped, a close on one side is not passed on), and connections
 *   opened while frozen are accepted but never reach the target. Nobody is told anything: only
 *   timeouts notice, as with packets dropped by a broken network. `thaw()` forwards new
 *   connections again; the connections lost to the freeze stay black holes, as behind a stateful
 *   firewall that lost its connection table (their bytes were dropped: the streams they carried
 *   cannot be resumed). Their server-side sessions end only by the server's own timeouts.
 */
export class TcpProxy {
  private server: Server | null = null;
  private readonly links = new Set<Link>();
  private frozen = false;
  private freezeMarker: { readonly marker: string; readonly frozen: () => void } | null = null;
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get isFrozen(): boolean {
    return this.frozen;
  }

  async start(port = 0): Promise<this> {
    const server = createServer((client) => this.open(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as { port: number }).port;
    return this;
  }

  async cut(): Promise<void> {
    const server = this.server;
    this.server = null;
    this.destroyAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async restore(): Promise<void> {
    await this.start(this.port);
  }

  /** Stops forwarding on every connection, open and future, without closing any (see the class). */
  freeze(): void {
    this.frozen = true;
    this.freezeMarker = null;
    for (const link of this.links) blackHole(link);
  }

  /**
   * Freezes as soon as a client sends bytes containing `marker` (e.g. a statement's text): those
   * bytes still reach the target, nothing after them does, and no answer comes back. Resolves
   * when frozen.
   */
  freezeAfter(marker: string): Promise<void> {
    return new Promise((resolve) => {
      this.freezeMarker = { marker, frozen: resolve };
    });
  }

  /** New connections are forwarded again; those lost to the freeze stay black holes. */
  thaw(): void {
    this.frozen = false;
  }

  close(): Promise<void> {
    return this.cut();
  }

  private open(client: Socket): void {
    const link: Link = { client, upstream: null, blackHoled: false };
    this.links.add(link);
    client.on('error', () => undefined);
    client.on('close', () => {
      if (!link.blackHoled) {
        link.upstream?.destroy();
        this.links.delete(link);
      }
    });
    if (this.frozen) {
      blackHole(link);
      return;
    }
    const upstream = connect(this.targetPort, this.targetHost);
    link.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.on('close', () => {
      if (!link.blackHoled) {
        client.destroy();
        this.links.delete(link);
      }
    });
    client.pipe(upstream).pipe(client);
    // After pipe's own listener: the chunk with the marker is already on its way upstream.
    client.on('data', (chunk: Buffer) => {
      const armed = this.freezeMarker;
      if (armed !== null && !link.blackHoled && chunk.toString('latin1').includes(armed.marker)) {
        this.freeze();
        armed.frozen();
      }
    });
  }

  private destroyAll(): void {
    for (const link of this.links) {
      link.client.destroy();
      link.upstream?.destroy();
    }
    this.links.clear();
  }
}

function blackHole(link: Link): void {
  if (link.blackHoled) return;
  link.blackHoled = true;
  link.client.unpipe();
  link.upstream?.unpipe();
  for (const socket of [link.client, link.upstream]) {
    if (socket === null) continue;
    socket.on('data', () => undefined);
    socket.resume();
  }
}
