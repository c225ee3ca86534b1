import { gzipSync } from 'node:zlib';
import { createTestApp, type TestApp } from '../utils/create-test-app.js';
import { createSlice, uniqueKey } from '../utils/operations.js';
import { TrafficIngestService } from '../../src/traffic/traffic-ingest.service.js';
import { readTraffic, reportBodyCases, sdkReportBody, sliceServed } from '../utils/traffic.js';

/**
 * POST /sdk/v1/metrics is answered on the HTTP fast path (DeliveryHttpHandler) when its body is
 * plain JSON, and by Express (SdkMetricsController) otherwise: a gzip-compressed body goes there.
 * Whatever the body, both must answer alike: the same status, error code and field, the same
 * request id rule, and a report taken by either counts the same.
 */

const MAX_BODY_BYTES = 4096;

interface Answer {
  readonly status: number;
  readonly code: string | null;
  readonly field: string | null;
  readonly requestId: string | null;
  /** Express's own header: tells which path answered. */
  readonly poweredBy: string | null;
}

describe('POST /sdk/v1/metrics: the fast path answers as the Express route does', () => {
  let t: TestApp;
  let sdk: string;
  let viewer: string;
  let key: string;

  beforeAll(async () => {
    t = await createTestApp({ SWITCHYARD_MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
    sdk = await t.tokenFor('sdk');
    viewer = await t.tokenFor('viewer');
    key = uniqueKey('fast');
    await createSlice(t.admin, { key });
    await sliceServed(t.app, key);
  });
  afterAll(async () => {
    await t?.close();
  });

  async function post(body: Buffer, via: 'fast' | 'express', headers: Record<string, string>): Promise<Answer> {
    const res = await fetch(`${t.baseUrl}/sdk/v1/metrics`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(via === 'express' ? { 'content-encoding': 'gzip' } : {}), ...headers },
      body: via === 'express' ? gzipSync(body) : body,
    });
    const text = await res.text();
    const error = text === '' ? null : (JSON.parse(text) as { errors?: { extensions: { code: string; field?: string } }[] }).errors?.[0]?.extensions;
    return { status: res.status, code: error?.code ?? null, field: error?.field ?? null, requestId: res.headers.get('x-request-id'), poweredBy: res.headers.get('x-powered-by') };
  }

  const cases: [string, () => Buffer, Record<string, string>?][] = [
    ...reportBodyCases('fast-app', () => key, MAX_BODY_BYTES).map(({ name, body }): [string, () => Buffer] => [name, body]),
    ['no token', () => Buffer.from('{}'), { authorization: '' }],
    ['a token that is not one', () => Buffer.from('{}'), { authorization: 'Bearer sy_nothing_of_the_kind_0000000000' }],
    ['a viewer token', () => Buffer.from('{}'), { authorization: 'viewer' }],
    ['a sane request id', () => Buffer.from('{}'), { 'x-request-id': 'req-42' }],
  ];

  it.each(cases)('%s', async (_name, body, extra = {}) => {
    const headers: Record<string, string> = { authorization: `Bearer ${sdk}`, ...extra };
    if (headers.authorization === 'viewer') headers.authorization = `Bearer ${viewer}`;
    if (headers.authorization === '') delete headers.authorization;
    const fast = await post(body(), 'fast', headers);
    const express = await post(body(), 'express', headers);
    expect({ ...fast, requestId: null, poweredBy: null }).toEqual({ ...express, requestId: null, poweredBy: null });
    expect([fast.poweredBy, express.poweredBy]).toEqual([null, 'Express']);
    if (headers['x-request-id'] !== undefined) expect([fast.requestId, express.requestId]).toEqual([headers['x-request-id'], headers['x-request-id']]);
    else expect(fast.requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('counts a report taken by either path', async () => {
    const slice = uniqueKey('fastcount');
    await createSlice(t.admin, { key: slice });
    await sliceServed(t.app, slice);
    const body = () => Buffer.from(JSON.stringify(sdkReportBody('fast-app', `i-${slice}`, { [slice]: { NEW: 3, LEGACY: 4 } })));
    expect((await post(body(), 'fast', { authorization: `Bearer ${sdk}` })).status).toBe(202);
    expect((await post(body(), 'express', { authorization: `Bearer ${sdk}` })).status).toBe(202);
    await t.app.get(TrafficIngestService).flush();
    const { traffic } = await readTraffic(t.admin, slice);
    expect(traffic.last5Minutes).toMatchObject({ new: 6, legacy: 8 });
  });
});
