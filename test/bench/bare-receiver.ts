/**
 * The floor of outcomes.bench.ts (forked; talks over IPC): the least a Node HTTP server can do for
 * the same SDK clients. Plain `node:http`, the wire protocol of client-sdk/PROTOCOL.md and nothing
 * else: GET /sdk/v1/snapshot and /sdk/v1/stream serve a snapshot captured from the real service
 * (the stream: `retry`, the snapshot event, a heartbeat every 10 s), POST /sdk/v1/metrics reads the
 * body, `JSON.parse`s it, counts it and answers 202 with the compact-outcomes header (so the SDKs
 * send the same compact reports they send the service) and, when `reportStream`, the report
 * stream's; POST /sdk/v1/metrics/stream answers 200 at once, then `JSON.parse`s each line, counts
 * it and answers `{"status":202}`. No token check, no validation, no buffer, no database: what the
 * service spends above this server's CPU per report is its own work.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export type ToBareReceiver = { type: 'start'; snapshot: string; revision: number; reportStream: boolean } | { type: 'count' } | { type: 'close' };
export type FromBareReceiver = { type: 'listening'; port: number; pid: number } | { type: 'count'; reports: number; posted: number } | { type: 'closed' };

const HEARTBEAT_MS = 10_000;
let reports = 0;
/** Of `reports`, those that came by POST. */
let posted = 0;

function send(message: FromBareReceiver): void {
  process.send!(message);
}

function start(snapshot: string, revision: number, reportStream: boolean): void {
  const accepted: Record<string, string> = { 'switchyard-compact-outcomes': '1', ...(reportStream ? { 'switchyard-report-stream': '/sdk/v1/metrics/stream' } : {}) };
  const etag = `"${revision}"`;
  const streams = new Set<ServerResponse>();
  const heartbeat = setInterval(() => {
    for (const res of streams) res.write(`event: heartbeat\ndata: {"revision":${revision}}\n\n`);
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === '/sdk/v1/metrics') {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        JSON.parse(Buffer.concat(chunks).toString('utf8'));
        reports++;
        posted++;
        res.writeHead(202, accepted);
        res.end();
      });
      return;
    }
    if (req.method === 'POST' && path === '/sdk/v1/metrics/stream' && reportStream) {
      res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', ...accepted });
      res.flushHeaders();
      let pending: Buffer[] = [];
      req.on('data', (chunk: Buffer) => {
        let start = 0;
        for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
          pending.push(chunk.subarray(start, newline));
          JSON.parse(Buffer.concat(pending).toString('utf8'));
          pending = [];
          reports++;
          res.write('{"status":202}\n');
          start = newline + 1;
        }
        if (start < chunk.length) pending.push(chunk.subarray(start));
      });
      req.on('end', () => res.end());
      return;
    }
    if (req.method === 'GET' && path === '/sdk/v1/snapshot') {
      if (req.headers['if-none-match'] === etag) {
        res.writeHead(304, { etag });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', etag, 'cache-control': 'no-cache' });
      res.end(snapshot);
      return;
    }
    if (req.method === 'GET' && path === '/sdk/v1/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('retry: 1000\n\n');
      if (req.headers['last-event-id'] !== String(revision)) res.write(`event: snapshot\nid: ${revision}\ndata: ${snapshot}\n\n`);
      streams.add(res);
      res.on('close', () => streams.delete(res));
      return;
    }
    res.writeHead(404);
    res.end();
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    send({ type: 'listening', port: typeof address === 'object' && address !== null ? address.port : 0, pid: process.pid });
  });
}

process.on('message', (message: ToBareReceiver) => {
  switch (message.type) {
    case 'start':
      start(message.snapshot, message.revision, message.reportStream);
      break;
    case 'count':
      send({ type: 'count', reports, posted });
      break;
    case 'close':
      send({ type: 'closed' });
      process.exit(0);
  }
});
