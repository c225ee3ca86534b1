import { createTestApp, type TestApp } from '../utils/create-test-app.js';

/**
 * The console's sign-in over real HTTP (the browser suite, test/browser, drives the page itself):
 * a token exchanged for an HttpOnly SameSite=Strict cookie, the CSRF header required on every
 * request that is not a GET, sign-out and revocation ending the session, sdk tokens refused.
 */
describe('console sessions', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createTestApp();
  });
  afterAll(async () => {
    await app?.close();
  });

  async function signIn(token: string): Promise<{ cookie: string; csrf: string; response: Response; body: Record<string, unknown> }> {
    const response = await fetch(`${app.baseUrl}/console/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token }) });
    const body = (await response.json()) as Record<string, unknown>;
    const setCookie = response.headers.get('set-cookie') ?? '';
    return { cookie: setCookie.split(';')[0]!, csrf: String(body.csrfToken), response, body };
  }

  const graphql = (headers: Record<string, string>, query: string) =>
    fetch(`${app.baseUrl}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query }) });

  it('signs in with a token: an HttpOnly, SameSite=Strict cookie holds the session, never the token', async () => {
    const token = await app.tokenFor('release-manager', 'console-rm');
    const { response, body } = await signIn(token);
    expect(response.status).toBe(200);
    const setCookie = response.headers.get('set-cookie')!;
    const [session, hint] = response.headers.getSetCookie();
    expect(session).toMatch(/^switchyard_session=sys_[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Strict$/);
    // Beside it, a hint the page reads that holds nothing (docs/console.md, "Speed at 1,000 slices").
    expect(hint).toMatch(/^switchyard_signed_in=1; Path=\/; Max-Age=\d+; SameSite=Strict$/);
    expect(setCookie).not.toContain(token);
    expect(body).toMatchObject({ signedIn: true, name: 'console-rm', role: 'release-manager' });
    expect(JSON.stringify(body)).not.toContain(token);
  });

  it('with the cookie: every POST needs the CSRF header, queries too; a mutation without it is refused and writes nothing', async () => {
    const { cookie, csrf } = await signIn(await app.tokenFor('release-manager'));
    expect((await graphql({ cookie }, '{ slices { nodes { key } } }')).status).toBe(403);
    expect((await graphql({ cookie, 'x-switchyard-csrf': csrf }, '{ slices { nodes { key } } }')).status).toBe(200);
    const create = 'mutation { createSlice(key: "console.csrf", reason: "t") { key } }';
    const refused = await graphql({ cookie }, create);
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { errors: { extensions: { errorCode: string } }[] }).errors[0]!.extensions.errorCode).toBe('CSRF_TOKEN_MISSING');
    const wrong = await graphql({ cookie, 'x-switchyard-csrf': csrf.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')) }, create);
    expect(wrong.status).toBe(403);
    const none = await app.admin.ok<{ slices: { nodes: { key: string }[] } }>('{ slices { nodes { key } } }');
    expect(none.slices.nodes.map((s) => s.key)).not.toContain('console.csrf');
    const done = await graphql({ cookie, 'x-switchyard-csrf': csrf }, create);
    expect(await done.json()).toEqual({ data: { createSlice: { key: 'console.csrf' } } });
    // The history names the token the session acts as.
    const history = await app.admin.ok<{ history: { nodes: { actor: string }[] } }>('{ history(sliceKey: "console.csrf") { nodes { actor } } }');
    expect(history.history.nodes[0]!.actor).toMatch(/^release-manager-/);
  });

  it('an Authorization header wins over a cookie: a script with a token is judged by its token', async () => {
    const { cookie } = await signIn(await app.tokenFor('viewer'));
    const response = await graphql({ cookie, authorization: 'Bearer sy_not_a_token' }, '{ slices { nodes { key } } }');
    expect(response.status).toBe(401);
  });

  it('sign-out and revocation end sessions at once; expired or unknown cookies are signed out', async () => {
    const { cookie, csrf } = await signIn(await app.tokenFor('viewer'));
    expect((await fetch(`${app.baseUrl}/sdk/v1/snapshot`, { headers: { cookie } })).status).toBe(200);
    const refusedOut = await fetch(`${app.baseUrl}/console/session`, { method: 'DELETE', headers: { cookie } });
    expect(refusedOut.status).toBe(403); // sign-out is a state change too: CSRF header required
    const out = await fetch(`${app.baseUrl}/console/session`, { method: 'DELETE', headers: { cookie, 'x-switchyard-csrf': csrf } });
    expect(out.status).toBe(204);
    expect(out.headers.get('set-cookie')).toMatch(/^switchyard_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/);
    expect((await fetch(`${app.baseUrl}/sdk/v1/snapshot`, { headers: { cookie } })).status).toBe(401);
    expect(await (await fetch(`${app.baseUrl}/console/session`, { headers: { cookie } })).json()).toEqual({ signedIn: false });

    const name = `console-revoked-${Date.now()}`;
    const token = await app.tokenFor('incident-responder', name);
    const second = await signIn(token);
    expect((await graphql({ cookie: second.cookie, 'x-switchyard-csrf': second.csrf }, '{ slices { nodes { key } } }')).status).toBe(200);
    const tokens = await app.admin.ok<{ tokens: { id: string; name: string }[] }>('{ tokens { id name } }');
    await app.admin.ok('mutation($id: ID!) { revokeToken(id: $id, reason: "left") { id } }', { id: tokens.tokens.find((t) => t.name === name)!.id });
    expect((await graphql({ cookie: second.cookie, 'x-switchyard-csrf': second.csrf }, '{ slices { nodes { key } } }')).status).toBe(401);

    const forged = `switchyard_session=sys_${'A'.repeat(43)}`;
    expect((await fetch(`${app.baseUrl}/sdk/v1/snapshot`, { headers: { cookie: forged } })).status).toBe(401);
    expect((await graphql({ cookie: 'switchyard_session=<script>' }, '{ slices { nodes { key } } }')).status).toBe(401);
  });

  it('refuses sdk tokens, unknown tokens, and sign-ins that are not JSON (a cross-site form cannot sign a browser in)', async () => {
    expect((await signIn(await app.tokenFor('sdk'))).response.status).toBe(403);
    expect((await signIn('sy_unknown')).response.status).toBe(401);
    const form = await fetch(`${app.baseUrl}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: JSON.stringify({ token: await app.tokenFor('admin') }),
    });
    expect(form.status).toBe(400);
    expect(form.headers.get('set-cookie')).toBeNull();
  });

  it('serves the page under a Content-Security-Policy without inline scripts, and only its own files', async () => {
    const page = await fetch(`${app.baseUrl}/console/`);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'none'");
    expect(csp).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)/);
    expect(csp).not.toContain('unsafe-inline');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect((await fetch(`${app.baseUrl}/console/vendor/preact.mjs`)).status).toBe(200);
    for (const path of ['/console/../package.json', '/console/%2e%2e/package.json', '/console/app/..%2f..%2f..%2fpackage.json', '/console/vendor/../../src/main.ts']) {
      expect([404, 400]).toContain((await fetch(`${app.baseUrl}${path}`)).status);
    }
  });
});
