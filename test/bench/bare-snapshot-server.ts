/**
 * The ceiling of GET /sdk/v1/snapshot on this machine: the same bytes, ETag and token check
 * (sha256 of the bearer secret, as the service does) from a bare node:http server, no framework.
 * Started by delivery.bench.ts as a child process; prints its port on stdout once listening.
 *
 * argv: <snapshot body file> <etag> <bearer secret>
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [bodyFile, etag, secret] = process.argv.slice(2) as [string, string, string];
const body = readFileSync(bodyFile);
const expectedHash = createHash('sha256').update(secret).digest('hex');

const server = createServer((req, res) => {
  const auth = req.headers.authorization ?? '';
  if (!auth.startsWith('Bearer ') || createHash('sha256').update(auth.slice(7)).digest('hex') !== expectedHash) {
    res.writeHead(401).end();
    return;
  }
  if (req.url !== '/sdk/v1/snapshot') {
    res.writeHead(404).end();
    return;
  }
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, { etag, 'cache-control': 'no-cache' }).end();
    return;
  }
  res.writeHead(200, { etag, 'cache-control': 'no-cache', 'content-type': 'application/json; charset=utf-8', 'content-length': body.length }).end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
