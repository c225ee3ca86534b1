/**
 * A worker of streams.bench.ts (forked; talks over IPC): opens `count` raw SSE connections to
 * GET /sdk/v1/stream (plain node:http, no SDK, one TCP connection each) and reports, once armed,
 * when each connection has received a complete `snapshot` event (wall clock).
 */
import { type ClientRequest, request } from 'node:http';
import { performance } from 'node:perf_hooks';

export type ToStreamsWorker =
  { type: 'open'; url: string; token: string; count: number; lastEventId: number; concurrency: number } | { type: 'arm'; round: number; timeoutMs: number } | { type: 'close' };

export type FromStreamsWorker =
  | { type: 'opened'; ok: number; failed: number; ms: number; firstError: string | null }
  | { type: 'armed'; round: number }
  | { type: 'received'; round: number; times: number[]; missing: number; dropped: number }
  | { type: 'closed' };

const wallNow = () => performance.timeOrigin + performance.now();
const SNAPSHOT = Buffer.from('event: snapshot');
const END = Buffer.from('\n\n');

interface Conn {
  req: ClientRequest;
  /** Last bytes of the previous chunk, so that a marker split across two chunks is still found. */
  carry: Buffer;
  /** Inside a snapshot event whose end has not arrived yet. */
  inSnapshot: boolean;
  /** When this connection completed a snapshot event since it was armed (-1: not yet). */
  receivedAt: number;
  closed: boolean;
}

const conns: Conn[] = [];
let armed: { round: number; pending: number; timer: NodeJS.Timeout } | null = null;

function send(message: FromStreamsWorker): void {
  process.send!(message);
}

function onData(conn: Conn, chunk: Buffer): void {
  const data = conn.carry.length > 0 ? Buffer.concat([conn.carry, chunk]) : chunk;
  let from = 0;
  for (;;) {
    if (!conn.inSnapshot) {
      const at = data.indexOf(SNAPSHOT, from);
      if (at === -1) break;
      conn.inSnapshot = true;
      from = at + SNAPSHOT.length;
    }
    const end = data.indexOf(END, from);
    if (end === -1) break;
    conn.inSnapshot = false;
    from = end + END.length;
    snapshotReceived(conn);
  }
  conn.carry = Buffer.from(data.subarray(Math.max(from, data.length - SNAPSHOT.length)));
}

function snapshotReceived(conn: Conn): void {
  if (armed === null || conn.receivedAt !== -1) return;
  conn.receivedAt = wallNow();
  if (--armed.pending === 0) report();
}

function report(): void {
  const a = armed;
  if (a === null) return;
  armed = null;
  clearTimeout(a.timer);
  const times = conns.filter((c) => c.receivedAt !== -1).map((c) => c.receivedAt);
  send({ type: 'received', round: a.round, times, missing: conns.length - times.length, dropped: conns.filter((c) => c.closed).length });
}

function openOne(url: string, token: string, lastEventId: number): Promise<Conn> {
  return new Promise((resolveOpen, reject) => {
    const conn: Conn = { req: undefined as unknown as ClientRequest, carry: Buffer.alloc(0), inSnapshot: false, receivedAt: -1, closed: false };
    conn.req = request(
      `${url}/sdk/v1/stream`,
      { agent: false, headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', 'last-event-id': String(lastEventId) } },
      (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`HTTP ${res.statusCode}`));
          return;
        }
        res.on('data', (chunk: Buffer) => onData(conn, chunk));
        res.on('close', () => (conn.closed = true));
        res.on('error', () => (conn.closed = true));
        resolveOpen(conn);
      },
    );
    conn.req.on('error', (error) => {
      conn.closed = true;
      reject(error);
    });
    conn.req.end();
  });
}

async function openAll(msg: Extract<ToStreamsWorker, { type: 'open' }>): Promise<void> {
  const begin = performance.now();
  let next = 0;
  let failed = 0;
  let firstError: string | null = null;
  const lane = async () => {
    while (next < msg.count) {
      next++;
      try {
        conns.push(await openOne(msg.url, msg.token, msg.lastEventId));
      } catch (error) {
        failed++;
        firstError ??= (error as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: msg.concurrency }, lane));
  send({ type: 'opened', ok: conns.length, failed, ms: performance.now() - begin, firstError });
}

process.on('message', (msg: ToStreamsWorker) => {
  switch (msg.type) {
    case 'open':
      void openAll(msg);
      return;
    case 'arm':
      for (const c of conns) c.receivedAt = -1;
      armed = { round: msg.round, pending: conns.length, timer: setTimeout(report, msg.timeoutMs) };
      send({ type: 'armed', round: msg.round });
      return;
    case 'close':
      for (const c of conns) c.req.destroy();
      send({ type: 'closed' });
      process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
