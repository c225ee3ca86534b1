/**
 * The report stream (PROTOCOL.md, "The report stream") as a real client uses it against a real HTTP
 * peer (testing/protocol-server.ts): reports go there once the service names it, and no figure is
 * lost or counted twice whatever the stream does: ended before an answer, never opened (a proxy
 * holding request bodies), refused, cut, or answering a refusal. Against the real service:
 * test/e2e/sdk-report-stream.e2e.spec.ts.
 */
import { ClientFactory, snapshotAt } from '../testing/fixtures.js';
import { METRICS, ProtocolServer, readLines, REPORT_STREAM, respondStatus } from '../testing/protocol-server.js';
import { waitFor } from '../testing/wait-for.js';
import type { SwitchyardClient } from '../client.js';
import type { MetricsReport } from './metrics-reporter.js';

const alice = { userId: 'alice' };

describe('the report stream', () => {
  let server: ProtocolServer;
  const clients = new ClientFactory();
  const reports = () => server.reports as MetricsReport[];
  const reported = (slice: string) => reports().reduce((sum, r) => sum + (r.bucket.slices[slice]?.NEW ?? 0) + (r.bucket.slices[slice]?.LEGACY ?? 0), 0);
  const metricsErrors = () => clients.errors.filter((e) => e.operation === 'metrics');

  beforeEach(async () => {
    server = await ProtocolServer.start(snapshotAt(1));
    server.offersReportStream = true;
    server.readsCompactOutcomes = true;
  });
  afterEach(async () => {
    await clients.closeAll();
    await server.stop();
  });

  /** Decides `rounds` times, a report's interval apart, then waits for every decision to be reported. */
  async function decideAndReport(client: SwitchyardClient, rounds: number, already = 0): Promise<void> {
    for (let i = 0; i < rounds; i++) {
      client.decide('checkout', alice);
      await new Promise((r) => setTimeout(r, 60));
    }
    await waitFor(() => reported('checkout') === already + rounds, 5_000, `${already + rounds} decisions reported`);
  }

  it('sends reports on one stream once an accepted report names it, each answered', async () => {
    const client = await clients.create(server.url, { metricsIntervalMs: 50 });
    await decideAndReport(client, 10);
    expect(server.requestsTo(METRICS)).toHaveLength(1);
    expect(server.requestsTo(REPORT_STREAM)).toHaveLength(1);
    expect(server.requestsTo(REPORT_STREAM)[0]!.headers).toMatchObject({
      authorization: 'Bearer sy_test_sdk_token',
      'content-type': 'application/x-ndjson',
      'transfer-encoding': 'chunked',
    });
    expect(reports().length).toBeGreaterThan(2);
    expect(metricsErrors()).toEqual([]);
  });

  it('sends a report again on a new stream when the service ended the stream before answering it', async () => {
    let streams = 0;
    let unanswered = 0;
    server.reportStreamHandler = (request, response, peer) => {
      if (++streams > 1) return false;
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.flushHeaders();
      // Its lifetime over just as a line came: the line is not taken, the stream ends.
      readLines(request, () => {
        unanswered++;
        if (!response.writableEnded) response.end();
      });
      void peer;
      return true;
    };
    const client = await clients.create(server.url, { metricsIntervalMs: 50 });
    await decideAndReport(client, 6);
    expect(unanswered).toBeGreaterThanOrEqual(1);
    expect(server.requestsTo(REPORT_STREAM)).toHaveLength(2);
    expect(server.requestsTo(METRICS)).toHaveLength(1);
    expect(metricsErrors()).toEqual([]);
  });

  it('goes back to POSTs when the stream never opens (a proxy holding the request body), writing nothing to it', async () => {
    let bytes = 0;
    server.reportStreamHandler = (request) => {
      request.on('data', (chunk: Buffer) => (bytes += chunk.length));
      return true; // never answers
    };
    const client = await clients.create(server.url, { metricsIntervalMs: 50 });
    await decideAndReport(client, 3);
    const before = server.requestsTo(METRICS).length;
    // The stream is given up within STREAM_OPEN_TIMEOUT_MS, the report sent by POST in the same attempt.
    await decideAndReport(client, 5, 3);
    expect(server.requestsTo(METRICS).length).toBeGreaterThan(before);
    expect(server.requestsTo(REPORT_STREAM)).toHaveLength(1);
    expect(bytes).toBe(0);
  }, 15_000);

  it('goes back to POSTs, in the same attempt, when the stream is refused (an older instance: 404)', async () => {
    server.reportStreamHandler = respondStatus(404, 'NOT_FOUND');
    const client = await clients.create(server.url, { metricsIntervalMs: 50 });
    await decideAndReport(client, 6);
    expect(server.requestsTo(REPORT_STREAM)).toHaveLength(1);
    expect(metricsErrors()).toEqual([]);
  });

  it('keeps the figures of a report whose stream was cut before its answer, and sends them by POST', async () => {
    let cut = 0;
    server.reportStreamHandler = (request, response) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson' });
      response.flushHeaders();
      readLines(request, () => {
        cut++;
        response.socket?.destroy();
      });
      return true;
    };
    const client = await clients.create(server.url, { metricsIntervalMs: 50 });
    await decideAndReport(client, 6);
    expect(cut).toBe(1);
    expect(metricsErrors().map((e) => e.code)).toEqual(['NETWORK_ERROR']);
  });

  it('drops a report the stream answers with a refusal for good (400), as after a POST', async () => {
    let refused = 0;
    server.reportStreamHandler = (request, response, peer) => {
      response.writeHead(200, { 'content-type': 'application/x-ndjson', ...peer.acceptedHeaders() });
      response.flushHeaders();
      readLines(request, (line) => {
        const report = JSON.parse(line) as MetricsReport;
        // The first report carrying a decision is refused.
        if (refused === 0 && report.bucket.slices.checkout !== undefined) {
          refused++;
          response.write(`${JSON.stringify({ status: 400, errors: [{ message: 'no', extensions: { code: 'BAD_USER_INPUT', errorCode: 'INVALID_INPUT' } }] })}\n`);
          return;
        }
        peer.reports.push(report);
        response.write('{"status":202}\n');
      });
      return true;
    };
    const client = await clients.create(server.url, { metricsIntervalMs: 50 });
    await waitFor(() => server.requestsTo(METRICS).length === 1, 5_000, 'the first report, by POST');
    client.decide('checkout', alice);
    await waitFor(() => metricsErrors().length === 1, 5_000, 'the refusal');
    expect(metricsErrors()[0]).toMatchObject({ code: 'HTTP_ERROR', httpStatus: 400, serviceCode: 'INVALID_INPUT' });
    // The refused decision is not sent again; the ones after are, once.
    await decideAndReport(client, 3);
    await new Promise((r) => setTimeout(r, 200));
    expect(reported('checkout')).toBe(3);
  });

  it('sends the final report on the stream at close, then ends it', async () => {
    const client = await clients.create(server.url, { metricsIntervalMs: 50, instanceId: 'closing' });
    await decideAndReport(client, 2);
    client.decide('checkout', alice);
    await client.close();
    expect(reports().at(-1)).toMatchObject({ instanceId: 'closing', final: true });
    expect(reported('checkout')).toBe(3);
    expect(server.requestsTo(METRICS)).toHaveLength(1);
    await waitFor(() => server.reportStreams.size === 0, 2_000, 'the stream ended');
  });
});
