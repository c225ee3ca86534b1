import { request, type ClientRequest, type IncomingMessage } from 'node:http';
import { ClientFactory } from '../../client-sdk/src/testing/fixtures.js';
import { parseExposition } from '../utils/prometheus.js';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSlice, uniqueKey } from '../utils/operations.js';
import { TrafficIngestService } from '../../src/traffic/traffic-ingest.service.js';
import { readTraffic, reportBodyCases, sdkReportBody, sliceServed } from '../utils/traffic.js';

/**
 * POST /sdk/v1/metrics/stream (client-sdk/PROTOCOL.md, "The report stream"): the reports of
 * POST /sdk/v1/metrics, a line each, over one long-lived request, each answered by a line with the
 * status and body its POST would have had. Against the real service over real HTTP.
 */

const MAX_BODY_BYTES = 4096;
const LIFETIME_MS = 1_500;

interface Answer {
  readonly status: number;
  readonly code: string | null;
  readonly field: string | null;
}

/** An open report stream as a client holds it: its head, then its answer lines as they come. */
interface Upload {
  readonly res: IncomingMessage;
  readonly req: ClientRequest;
  /** The next answer line, parsed; null once the answer has ended. */
  next(timeoutMs?: number): Promise<Record<string, unknown> | null>;
  send(line: string | Buffer): void;
  /** Resolves when the answer ends: whether it ended cleanly. */
  readonly ended: Promise<boolean>;
  /** Everything the answer carried so far. */
  text(): string;
}

function answerOf(value: { status: number; errors?: { extensions: { code: string; field?: string } }[] }): Answer {
  const error = value.errors?.[0]?.extensions;
  return { status: value.status, code: error?.code ?? null, field: error?.field ?? null };
}

describe('POST /sdk/v1/metrics/stream: reports as lines of one request, answered as their POSTs are', () => {
  let t: TestApp;
  let sdk: string;
  let key: string;
  const open: ClientRequest[] = [];

  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_MAX_BODY_BYTES: String(MAX_BODY_BYTES), SWITCHYARD_REPORT_STREAM_LIFETIME_MS: String(LIFETIME_MS) });
    sdk = await t.tokenFor('sdk');
    key = uniqueKey('stream');
    await createSlice(t.admin, { key });
    await sliceServed(t.app, key);
  });
  afterEach(() => {
    for (const req of open.splice(0)) req.destroy();
  });
  afterAll(async () => {
    await t?.close();
  });

  function openUpload(app: TestApp, headers: Record<string, string>): Promise<Upload> {
    return new Promise((resolve, reject) => {
      const req = request(`${app.baseUrl}/sdk/v1/metrics/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-ndjson', 'transfer-encoding': 'chunked', ...headers },
      });
      open.push(req);
      req.on('error', () => {});
      req.on('response', (res) => {
        res.setEncoding('utf8');
        const lines: string[] = [];
        const waiters: ((line: string | null) => void)[] = [];
        let done = false;
        let pending = '';
        let all = '';
        res.on('data', (text: string) => {
          all += text;
          pending += text;
          for (let nl = pending.indexOf('\n'); nl !== -1; nl = pending.indexOf('\n')) {
            const line = pending.slice(0, nl);
            pending = pending.slice(nl + 1);
            const waiter = waiters.shift();
            if (waiter) waiter(line);
            else lines.push(line);
          }
        });
        const ended = new Promise<boolean>((resolveEnd) => {
          res.on('close', () => {
            done = true;
            for (const waiter of waiters.splice(0)) waiter(null);
            resolveEnd(res.complete);
          });
        });
        resolve({
          res,
          req,
          ended,
          text: () => all,
          send: (line) => req.write(typeof line === 'string' ? `${line}\n` : Buffer.concat([line, Buffer.from('\n')])),
          next: (timeoutMs = 10_000) =>
            new Promise((resolveLine, rejectLine) => {
              const ready = lines.shift();
              if (ready !== undefined) return resolveLine(JSON.parse(ready) as Record<string, unknown>);
              if (done) return resolveLine(null);
              const timer = setTimeout(() => rejectLine(new Error('no answer line in time')), timeoutMs);
              waiters.push((line) => {
                clearTimeout(timer);
                resolveLine(line === null ? null : (JSON.parse(line) as Record<string, unknown>));
              });
            }),
        });
      });
      req.on('error', reject);
      req.flushHeaders();
    });
  }

  async function post(body: Buffer): Promise<Answer> {
    const res = await fetch(`${t.baseUrl}/sdk/v1/metrics`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${sdk}` }, body });
    const text = await res.text();
    return answerOf({ status: res.status, ...(text === '' ? {} : (JSON.parse(text) as object)) });
  }

  // The bodies of the fast path's table that can be lines: not the empty body (a blank line is a
  // keep-alive), nor one over the limit (it ends the stream: below).
  const cases = reportBodyCases('stream-app', () => key, MAX_BODY_BYTES).filter((c) => c.line);

  it('answers each line with the status, code and field its POST gets, in order, on one request', async () => {
    const upload = await openUpload(t, { authorization: `Bearer ${sdk}` });
    expect(upload.res.statusCode).toBe(200);
    expect(upload.res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(upload.res.headers['switchyard-compact-outcomes']).toBe('1');
    expect(upload.res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    for (const { body } of cases) upload.send(body());
    for (const { name, body } of cases) {
      const line = await upload.next();
      expect([name, answerOf(line as never)]).toEqual([name, await post(body())]);
    }
  });

  it('takes the reports it accepts as their POSTs are taken, and the POST names the stream', async () => {
    const slice = uniqueKey('streamcount');
    await createSlice(t.admin, { key: slice });
    await sliceServed(t.app, slice);
    const upload = await openUpload(t, { authorization: `Bearer ${sdk}` });
    for (let i = 0; i < 3; i++) upload.send(JSON.stringify(sdkReportBody('stream-app', `i-${slice}`, { [slice]: { NEW: 3, LEGACY: 4 } })));
    for (let i = 0; i < 3; i++) expect(await upload.next()).toEqual({ status: 202 });
    const res = await fetch(`${t.baseUrl}/sdk/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${sdk}` },
      body: JSON.stringify(sdkReportBody('stream-app', `j-${slice}`, { [slice]: { NEW: 1, LEGACY: 0 } })),
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('switchyard-report-stream')).toBe('/sdk/v1/metrics/stream');
    await t.app.get(TrafficIngestService).flush();
    const { traffic } = await readTraffic(t.admin, slice);
    expect(traffic.last5Minutes).toMatchObject({ new: 10, legacy: 12 });
  });

  it('reads lines however they are cut, skips blank lines, and takes CRLF', async () => {
    const upload = await openUpload(t, { authorization: `Bearer ${sdk}` });
    const report = Buffer.from(JSON.stringify(sdkReportBody('stream-app', 'i-cut', { [key]: { NEW: 1, LEGACY: 0 } })));
    upload.req.write(report.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 20));
    upload.req.write(Buffer.concat([report.subarray(10), Buffer.from('\r\n\n   \n'), report, Buffer.from('\n{"appName":\n')]));
    expect(await upload.next()).toEqual({ status: 202 });
    expect(await upload.next()).toEqual({ status: 202 });
    expect(answerOf((await upload.next()) as never)).toMatchObject({ status: 400, code: 'BAD_USER_INPUT' });
  });

  it('answers a line over the body limit 413, after the lines before it, and ends the stream', async () => {
    const upload = await openUpload(t, { authorization: `Bearer ${sdk}` });
    upload.send('{}');
    upload.send(JSON.stringify(sdkReportBody('a'.repeat(MAX_BODY_BYTES), 'i-1', {})));
    upload.send('{}');
    expect(answerOf((await upload.next()) as never).status).toBe(400);
    expect(answerOf((await upload.next()) as never)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
    expect(await upload.next()).toBeNull();
  });

  it.each([
    ['no token', {}, 401, 'UNAUTHENTICATED'],
    ['a token that is not one', { authorization: 'Bearer sy_nothing_of_the_kind_0000000000' }, 401, 'UNAUTHENTICATED'],
    ['another content type', { authorization: 'sdk', 'content-type': 'application/json' }, 400, 'BAD_USER_INPUT'],
    ['a compressed body', { authorization: 'sdk', 'content-encoding': 'gzip' }, 400, 'BAD_USER_INPUT'],
  ])('refuses to open with %s, and closes the connection after the answer', async (_name, headers: Record<string, string>, status, code) => {
    const resolved = { ...headers };
    if (resolved.authorization === 'sdk') resolved.authorization = `Bearer ${sdk}`;
    const upload = await openUpload(t, resolved);
    expect(upload.res.statusCode).toBe(status);
    expect(upload.res.headers.connection).toBe('close');
    await upload.ended;
    expect((JSON.parse(upload.text()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe(code);
  });

  it('ends the stream cleanly after SWITCHYARD_REPORT_STREAM_LIFETIME_MS, every line sent before answered', async () => {
    const upload = await openUpload(t, { authorization: `Bearer ${sdk}` });
    const opened = Date.now();
    upload.send('{}');
    expect(answerOf((await upload.next()) as never).status).toBe(400);
    expect(await upload.ended).toBe(true);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(LIFETIME_MS - 100);
  });

  it('ends the stream when its token is revoked', async () => {
    const issued = await t.admin.ok<{ createToken: { secret: string; token: { id: string } } }>(
      'mutation($name: String!) { createToken(name: $name, role: SDK) { secret token { id } } }',
      { name: uniqueKey('stream-token') },
    );
    const upload = await openUpload(t, { authorization: `Bearer ${issued.createToken.secret}` });
    upload.send('{}');
    await upload.next();
    const revoked = Date.now();
    await t.admin.ok('mutation($id: ID!) { revokeToken(id: $id) { id } }', { id: issued.createToken.token.id });
    expect(await upload.ended).toBe(true);
    expect(Date.now() - revoked).toBeLessThan(LIFETIME_MS);
  });

  it("carries a real SDK's reports after its first POST: every decision counted once across the stream's renewals", async () => {
    const sdks = new ClientFactory({ appName: 'stream-sdk', initTimeoutMs: 5_000, heartbeatTimeoutMs: 2_000 });
    const slice = uniqueKey('streamsdk');
    await createSlice(t.admin, { key: slice, percent: 50 });
    await sliceServed(t.app, slice);
    const requests = async (route: string, status: string) =>
      parseExposition(await (await fetch(`${t.baseUrl}/metrics`)).text()).value('switchyard_http_requests_total', { method: 'POST', route, status }) ?? 0;
    const postsBefore = await requests('/sdk/v1/metrics', '202');
    const streamsBefore = await requests('/sdk/v1/metrics/stream', '200');
    const client = await sdks.create(t.baseUrl, { token: sdk, metricsIntervalMs: 100 });
    // About three times the stream's lifetime: renewed twice or more on the way.
    const DECISIONS = 45;
    for (let i = 0; i < DECISIONS; i++) {
      client.decide(slice, { userId: `u-${i}` });
      await new Promise((r) => setTimeout(r, 100));
    }
    const errors = await sdks.closeAll();
    await t.app.get(TrafficIngestService).flush();
    const { traffic } = await readTraffic(t.admin, slice);
    expect(traffic.last5Minutes.total).toBe(DECISIONS);
    expect(await requests('/sdk/v1/metrics', '202')).toBe(postsBefore + 1);
    expect((await requests('/sdk/v1/metrics/stream', '200')) - streamsBefore).toBeGreaterThanOrEqual(3);
    // The reports' errors (the configuration stream's heartbeat is the service's default here, slower than the SDK's watchdog).
    expect(errors.filter((e) => e.operation === 'metrics')).toEqual([]);
  });

  it('is neither named nor served with SWITCHYARD_REPORT_STREAM=false: SDKs report by POST', async () => {
    const off = await createTestApp({ SWITCHYARD_REPORT_STREAM: 'false' });
    try {
      const token = await off.tokenFor('sdk');
      const slice = uniqueKey('streamoff');
      await createSlice(off.admin, { key: slice });
      await sliceServed(off.app, slice);
      const res = await fetch(`${off.baseUrl}/sdk/v1/metrics`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(sdkReportBody('off-app', 'i-1', { [slice]: { NEW: 1, LEGACY: 0 } })),
      });
      expect(res.status).toBe(202);
      expect(res.headers.get('switchyard-compact-outcomes')).toBe('1');
      expect(res.headers.get('switchyard-report-stream')).toBeNull();
      const upload = await openUpload(off, { authorization: `Bearer ${token}` });
      expect(upload.res.statusCode).toBe(404);
    } finally {
      await off.close();
    }
  });

  it('ends open streams cleanly when the service shuts down', async () => {
    const other = await createTestApp();
    const token = await other.tokenFor('sdk');
    const upload = await openUpload(other, { authorization: `Bearer ${token}` });
    upload.send('{}');
    await upload.next();
    const closing = other.close();
    expect(await upload.ended).toBe(true);
    await closing;
  });
});
