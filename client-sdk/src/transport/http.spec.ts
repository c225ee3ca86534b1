/**
 * How answers to the snapshot and stream requests become error codes, without a network: the
 * service itself answers those requests with 200, 304, 401, 403 or 5xx only, so any other 4xx
 * means the request went somewhere else (WRONG_URL).
 */
import type { TransportContext } from './http.js';
import { endpointError, wrongUrlMessage } from './http.js';

const transport = (baseUrl: string): TransportContext => ({ baseUrl, headers: {}, fetch: globalThis.fetch, nodeStream: false, idleTimeoutMs: 1_000 });

/** Apollo's answer to GET /graphql/sdk/v1/stream (its CSRF check), as the service sends it. */
const csrfBody = JSON.stringify({
  errors: [{ message: 'This operation has been blocked as a potential Cross-Site Request Forgery (CSRF).', extensions: { code: 'BAD_REQUEST' } }],
});

describe('endpointError', () => {
  it.each([
    ['Apollo refusing a GET at /graphql/... (CSRF check)', 400, csrfBody, 'BAD_REQUEST'],
    [
      'the service without such a route',
      404,
      JSON.stringify({ errors: [{ message: 'Cannot GET /api/sdk/v1/snapshot', extensions: { code: 'NOT_FOUND', errorCode: 'ROUTE_NOT_FOUND' } }] }),
      'ROUTE_NOT_FOUND',
    ],
    ["a web server's page", 404, '<html>Not Found</html>', undefined],
    ['a method not allowed', 405, '', undefined],
  ])('makes %s WRONG_URL, keeping the status and the code of whatever answered', async (_name, status, body, serviceCode) => {
    for (const operation of ['stream', 'poll'] as const) {
      const error = await endpointError(new Response(body, { status }), transport('https://sy.example.com/graphql'), operation, '/sdk/v1/stream');
      expect(error).toMatchObject({ code: 'WRONG_URL', operation, httpStatus: status, serviceCode });
    }
  });

  it('keeps the codes of the answers the service gives, and of a proxy saying "later": every status 400..599', async () => {
    const codes = new Map<string, number[]>();
    for (let status = 400; status <= 599; status++) {
      const { code } = await endpointError(new Response('', { status }), transport('https://sy.example.com'), 'poll', '/sdk/v1/snapshot');
      codes.set(code, [...(codes.get(code) ?? []), status]);
    }
    const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
    expect(codes.get('UNAUTHORIZED')).toEqual([401]);
    expect(codes.get('FORBIDDEN')).toEqual([403]);
    expect(codes.get('HTTP_ERROR')).toEqual([408, 429, ...range(500, 599)]);
    expect(codes.get('WRONG_URL')).toEqual(range(400, 499).filter((s) => ![401, 403, 408, 429].includes(s)));
  });

  // The one place a test reads a message: naming the URL tried and the form expected is the
  // whole point of this one (issue 11: "a clear configuration error that names the URL").
  it('names the URL given and the form expected, and the /graphql mistake when it is that', () => {
    const graphql = wrongUrlMessage('https://sy.example.com/graphql', 'GET https://sy.example.com/graphql/sdk/v1/stream answered 400');
    expect(graphql).toContain('https://sy.example.com/graphql ');
    expect(graphql).toContain('GET https://sy.example.com/graphql/sdk/v1/stream answered 400');
    expect(graphql).toContain('https://switchyard.example.com');
    expect(graphql).toContain('/graphql endpoint');
    expect(wrongUrlMessage('https://sy.example.com/api', 'GET https://sy.example.com/api/sdk/v1/snapshot answered 404')).not.toContain('/graphql');
  });
});
