import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_TOKEN, createTestApp, type TestApp } from '../utils/create-test-app.js';
import type { GraphqlClient, GraphqlResponse } from '../utils/graphql-client.js';

type RoleName = 'admin' | 'release-manager' | 'incident-responder' | 'viewer' | 'sdk';
const ROLES: readonly RoleName[] = ['admin', 'release-manager', 'incident-responder', 'viewer', 'sdk'];

/** A token of one role, with the name history records as its actor. */
interface Caller {
  readonly name: string;
  readonly secret: string;
  readonly client: GraphqlClient;
}

interface TokenView {
  id: string;
  name: string;
  role: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  active: boolean;
}

const TOKEN_FIELDS = 'id name role createdBy createdAt expiresAt revokedAt active';
const SLICES = '{ slices(first: 1) { nodes { key } } }';
const CREATE_TOKEN = `mutation($name: String!, $role: Role!, $expiresAt: DateTime) {
  createToken(name: $name, role: $role, expiresAt: $expiresAt) { secret token { ${TOKEN_FIELDS} } } }`;
const REVOKE_TOKEN = `mutation($id: ID!) { revokeToken(id: $id) { ${TOKEN_FIELDS} } }`;

let counter = 0;
function unique(prefix: string): string {
  return `${prefix}.${Date.now().toString(36)}-${(++counter).toString(36)}`;
}

function graphqlRole(role: RoleName): string {
  return role.toUpperCase().replace('-', '_');
}

describe('authentication and authorization', () => {
  let t: TestApp;
  const callers = {} as Record<RoleName, Caller>;

  beforeAll(async () => {
    t = await createTestApp();
    for (const role of ROLES) {
      const name = unique(`matrix-${role}`);
      const secret = await t.tokenFor(role, name);
      callers[role] = { name, secret, client: t.as(secret) };
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The newest history row: every change writes one, so an unchanged head means nothing was written. */
  async function historyHead(): Promise<{ sequence: string; action: string; actor: string }> {
    const data = await t.admin.ok<{ history: { nodes: { sequence: string; action: string; actor: string }[] } }>('{ history(first: 1) { nodes { sequence action actor } } }');
    return data.history.nodes[0]!;
  }

  async function createSlice(key: string, vars: { percent?: number; tags?: string[] } = {}): Promise<void> {
    await t.admin.ok('mutation($key: String!, $percent: Float!, $tags: [String!]!) { createSlice(key: $key, percent: $percent, tags: $tags) { key } }', {
      key,
      percent: vars.percent ?? 0,
      tags: vars.tags ?? [],
    });
  }

  /** The slice's version and state as the admin sees it, or null when it does not exist. */
  async function sliceState(key: string): Promise<{ version: number; state: string; percent: number } | null> {
    const res = await t.admin.request<{ slice: { version: number; state: string; percent: number } }>('query($key: String!) { slice(key: $key) { version state percent } }', {
      key,
    });
    if (res.errors?.length) {
      expect(res.errors[0]!.extensions?.errorCode).toBe('SLICE_NOT_FOUND');
      return null;
    }
    return res.data!.slice;
  }

  async function sliceHistoryLength(key: string): Promise<number> {
    const data = await t.admin.ok<{ history: { nodes: unknown[] } }>('query($key: String!) { history(sliceKey: $key, first: 500) { nodes { sequence } } }', {
      key,
    });
    return data.history.nodes.length;
  }

  async function listTokens(): Promise<TokenView[]> {
    return (await t.admin.ok<{ tokens: TokenView[] }>(`{ tokens { ${TOKEN_FIELDS} } }`)).tokens;
  }

  async function createToken(role: RoleName, expiresAt?: string): Promise<{ secret: string; token: TokenView }> {
    const data = await t.admin.ok<{ createToken: { secret: string; token: TokenView } }>(CREATE_TOKEN, {
      name: unique(`token-${role}`),
      role: graphqlRole(role),
      expiresAt,
    });
    return data.createToken;
  }

  function expectCode(res: GraphqlResponse<unknown>, code: string): void {
    expect(res.errors).toHaveLength(1);
    expect(res.errors![0]!.extensions?.code).toBe(code);
    expect(res.data ?? null).toBeNull();
  }

  describe('who is calling', () => {
    it('refuses a request without an Authorization header with UNAUTHENTICATED, writing nothing', async () => {
      const key = unique('no-header');
      const head = await historyHead();
      expectCode(await t.as(null).request(SLICES), 'UNAUTHENTICATED');
      expectCode(await t.as(null).request('mutation($key: String!) { createSlice(key: $key) { key } }', { key }), 'UNAUTHENTICATED');
      expect(await sliceState(key)).toBeNull();
      expect(await historyHead()).toEqual(head);
    });

    // Known bug: introspection and __typename never reach a resolver, so the guard never sees
    // them and they are answered to anyone. "Every request needs a token" (issue 3, Access).
    it('refuses schema introspection without a token', async () => {
      expectCode(await t.as(null).request('{ __schema { mutationType { fields { name } } } }'), 'UNAUTHENTICATED');
      expectCode(await t.as('sy_not-a-real-token-0123456789abcdef').request('{ __typename }'), 'UNAUTHENTICATED');
    });

    it.each([
      ['a Basic scheme', `Basic ${Buffer.from('admin:admin').toString('base64')}`],
      ['the bare secret without a scheme', ADMIN_TOKEN],
      ['"Bearer" without a token', 'Bearer '],
      ['two tokens', `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}`],
      ['an oversized token', `Bearer ${'x'.repeat(600)}`],
    ])('refuses a malformed header (%s) with UNAUTHENTICATED', async (_label, authorization) => {
      expectCode(await t.as(null).request(SLICES, {}, { authorization }), 'UNAUTHENTICATED');
    });

    it('refuses an unknown token with UNAUTHENTICATED, writing nothing', async () => {
      const key = unique('unknown-token');
      const head = await historyHead();
      const stranger = t.as('sy_this-token-was-never-issued-0123456789');
      expectCode(await stranger.request(SLICES), 'UNAUTHENTICATED');
      expectCode(await stranger.request('mutation($key: String!) { createSlice(key: $key) { key } }', { key }), 'UNAUTHENTICATED');
      expect(await sliceState(key)).toBeNull();
      expect(await historyHead()).toEqual(head);
    });

    it('accepts a token until it expires, then answers UNAUTHENTICATED', async () => {
      const expiresAt = new Date(Date.now() + 2_000);
      const { secret, token } = await createToken('viewer', expiresAt.toISOString());
      expect(token).toMatchObject({ expiresAt: expiresAt.toISOString(), active: true });
      const client = t.as(secret);
      expect((await client.request(SLICES)).errors).toBeUndefined();

      // The one wait in this file: until the expiry instant has passed.
      await sleep(expiresAt.getTime() - Date.now() + 250);

      expectCode(await client.request(SLICES), 'UNAUTHENTICATED');
      const listed = (await listTokens()).find((x) => x.id === token.id);
      expect(listed).toMatchObject({ active: false, revokedAt: null });
    });

    it('refuses to create a token that has already expired, naming the field', async () => {
      const name = unique('born-expired');
      const res = await t.admin.request(CREATE_TOKEN, { name, role: 'VIEWER', expiresAt: new Date(Date.now() - 60_000).toISOString() });
      expectCode(res, 'BAD_USER_INPUT');
      expect(res.errors![0]!.extensions).toMatchObject({ errorCode: 'INVALID_INPUT', field: 'expiresAt' });
      expect((await listTokens()).map((x) => x.name)).not.toContain(name);
    });

    it('revokeToken takes effect on the very next request', async () => {
      const { secret, token } = await createToken('release-manager');
      const client = t.as(secret);
      expect((await client.request(SLICES)).errors).toBeUndefined();

      const revoked = (await t.admin.ok<{ revokeToken: TokenView }>(REVOKE_TOKEN, { id: token.id })).revokeToken;
      expect(revoked).toMatchObject({ id: token.id, active: false, revokedAt: expect.any(String) });

      expectCode(await client.request(SLICES), 'UNAUTHENTICATED');
      expectCode(await client.request('mutation($key: String!) { createSlice(key: $key) { key } }', { key: unique('after-revoke') }), 'UNAUTHENTICATED');
      expect((await listTokens()).find((x) => x.id === token.id)).toMatchObject({ active: false, revokedAt: revoked.revokedAt });
    });

    it('refuses to revoke a token twice (CONFLICT) or an unknown one (NOT_FOUND)', async () => {
      const { token } = await createToken('viewer');
      await t.admin.ok(REVOKE_TOKEN, { id: token.id });
      const again = await t.admin.request(REVOKE_TOKEN, { id: token.id });
      expectCode(again, 'CONFLICT');
      expect(again.errors![0]!.extensions?.errorCode).toBe('TOKEN_ALREADY_REVOKED');
      const unknown = await t.admin.request(REVOKE_TOKEN, { id: '00000000-0000-4000-8000-000000000000' });
      expectCode(unknown, 'NOT_FOUND');
      expect(unknown.errors![0]!.extensions?.errorCode).toBe('TOKEN_NOT_FOUND');
    });
  });

  describe('tokens', () => {
    it('has the bootstrap admin, named bootstrap-admin, and it acts under that name', async () => {
      const bootstrap = (await listTokens()).filter((x) => x.name === 'bootstrap-admin');
      expect(bootstrap).toEqual([expect.objectContaining({ role: 'ADMIN', createdBy: 'system', active: true, revokedAt: null, expiresAt: null })]);

      const key = unique('bootstrap-actor');
      await createSlice(key);
      expect(await historyHead()).toMatchObject({ action: 'SLICE_CREATED', actor: 'bootstrap-admin' });
    });

    it("createToken's secret works as a bearer token, with exactly its role's rights", async () => {
      const { secret, token } = await createToken('viewer');
      expect(secret).toEqual(expect.any(String));
      expect(token).toMatchObject({ role: 'VIEWER', createdBy: 'bootstrap-admin', active: true });
      const viewer = t.as(secret);
      expect((await viewer.request(SLICES)).errors).toBeUndefined();
      expectCode(await viewer.request('mutation($key: String!) { createSlice(key: $key) { key } }', { key: unique('viewer-write') }), 'FORBIDDEN');
    });

    it('refuses a second token with the same name (it is the history actor)', async () => {
      const name = unique('same-name');
      await t.admin.ok(CREATE_TOKEN, { name, role: 'VIEWER' });
      const res = await t.admin.request(CREATE_TOKEN, { name, role: 'ADMIN' });
      expectCode(res, 'CONFLICT');
      expect(res.errors![0]!.extensions?.errorCode).toBe('TOKEN_NAME_TAKEN');
      expect((await listTokens()).filter((x) => x.name === name)).toEqual([expect.objectContaining({ role: 'VIEWER' })]);
    });

    it('lists every token, revoked ones included, and never a secret or its hash', async () => {
      const kept = await createToken('sdk');
      const revoked = await createToken('incident-responder');
      await t.admin.ok(REVOKE_TOKEN, { id: revoked.token.id });

      const res = await t.admin.request<{ tokens: TokenView[] }>(`{ tokens { ${TOKEN_FIELDS} } }`);
      expect(res.errors).toBeUndefined();
      const byId = new Map(res.data!.tokens.map((x) => [x.id, x]));
      expect(byId.get(kept.token.id)).toMatchObject({ role: 'SDK', active: true });
      expect(byId.get(revoked.token.id)).toMatchObject({ role: 'INCIDENT_RESPONDER', active: false });

      const body = JSON.stringify(res);
      for (const secret of [kept.secret, revoked.secret, ADMIN_TOKEN, ...ROLES.map((r) => callers[r].secret)]) {
        expect(body).not.toContain(secret);
      }
      // Nor could a client ask for one: the type has no such field.
      const type = await t.admin.ok<{ __type: { fields: { name: string }[] } }>('{ __type(name: "ApiToken") { fields { name } } }');
      expect(type.__type.fields.map((f) => f.name).sort()).toEqual(['active', 'createdAt', 'createdBy', 'expiresAt', 'id', 'name', 'revokedAt', 'role']);
    });

    it('records the token name as the history actor, whatever the caller sends', async () => {
      const key = unique('actor');
      await createSlice(key);
      const rm = callers['release-manager'];
      await rm.client.request(
        'mutation($key: String!) { setRollout(key: $key, percent: 5, reason: "step 1") { version } }',
        { key },
        {
          'x-actor': 'someone-else',
          'x-user': 'someone-else',
        },
      );
      const data = await t.admin.ok<{ history: { nodes: { action: string; actor: string }[] } }>(
        'query($key: String!) { history(sliceKey: $key, first: 1) { nodes { action actor } } }',
        { key },
      );
      expect(data.history.nodes[0]).toEqual({ action: 'ROLLOUT_SET', actor: rm.name });
    });
  });

  /**
   * Every role against every kind of operation. Each case prepares its own data as the admin,
   * calls as the role, and then either expects success (a mutation's history row names the
   * caller) or FORBIDDEN with nothing written: history head, and the slice's version and state,
   * unchanged.
   */
  describe('role × operation matrix', () => {
    interface Prepared {
      readonly query: string;
      readonly variables?: Record<string, unknown>;
      /** A slice whose version and state must not move when the call is refused. */
      readonly sliceKey?: string;
    }
    interface Operation {
      readonly mutation: boolean;
      readonly allowed: readonly RoleName[];
      prepare(): Prepared | Promise<Prepared>;
    }

    const EVERYONE = ROLES;
    const READERS: RoleName[] = ['admin', 'release-manager', 'incident-responder', 'viewer'];
    const CHANGERS: RoleName[] = ['admin', 'release-manager'];
    const RESPONDERS: RoleName[] = ['admin', 'release-manager', 'incident-responder'];

    const OPERATIONS: Record<string, Operation> = {
      slices: { mutation: false, allowed: READERS, prepare: () => ({ query: SLICES }) },
      evaluate: {
        mutation: false,
        allowed: EVERYONE,
        prepare: async () => {
          const sliceKey = unique('m.evaluate');
          await createSlice(sliceKey, { percent: 100 });
          return {
            query: 'query($key: String!) { evaluate(sliceKey: $key, context: { userId: "42" }) { path reason } }',
            variables: { key: sliceKey },
          };
        },
      },
      createSlice: {
        mutation: true,
        allowed: CHANGERS,
        prepare: () => {
          const sliceKey = unique('m.create');
          return { query: 'mutation($key: String!) { createSlice(key: $key, percent: 5) { key } }', variables: { key: sliceKey }, sliceKey };
        },
      },
      setRollout: {
        mutation: true,
        allowed: CHANGERS,
        prepare: async () => {
          const sliceKey = unique('m.rollout');
          await createSlice(sliceKey, { percent: 5 });
          return { query: 'mutation($key: String!) { setRollout(key: $key, reason: "test", percent: 50) { version } }', variables: { key: sliceKey }, sliceKey };
        },
      },
      rollback: {
        mutation: true,
        allowed: RESPONDERS,
        prepare: async () => {
          const sliceKey = unique('m.rollback');
          await createSlice(sliceKey, { percent: 5 });
          return { query: 'mutation($key: String!) { rollback(key: $key, reason: "incident") { state } }', variables: { key: sliceKey }, sliceKey };
        },
      },
      rollbackAll: {
        mutation: true,
        allowed: RESPONDERS,
        prepare: async () => {
          // A tag of its own, so the call touches this case's slice and no other test's.
          const tag = unique('m-tag');
          const sliceKey = unique('m.rollback-all');
          await createSlice(sliceKey, { percent: 5, tags: [tag] });
          return { query: 'mutation($tag: String!) { rollbackAll(reason: "incident", tag: $tag) { count } }', variables: { tag }, sliceKey };
        },
      },
      resume: {
        mutation: true,
        allowed: CHANGERS,
        prepare: async () => {
          const sliceKey = unique('m.resume');
          await createSlice(sliceKey, { percent: 5 });
          await t.admin.ok('mutation($key: String!) { rollback(key: $key, reason: "incident") { state } }', { key: sliceKey });
          return { query: 'mutation($key: String!) { resume(key: $key, reason: "fixed") { state } }', variables: { key: sliceKey }, sliceKey };
        },
      },
      createSegment: {
        mutation: true,
        allowed: CHANGERS,
        prepare: () => ({
          query: 'mutation($key: String!) { createSegment(key: $key, constraints: [{ attribute: "country", operator: IN, values: ["KE"] }]) { key } }',
          variables: { key: unique('m.segment') },
        }),
      },
      createToken: {
        mutation: true,
        allowed: ['admin'],
        prepare: () => ({
          query: 'mutation($name: String!) { createToken(name: $name, role: ADMIN) { secret } }',
          variables: { name: unique('m-escalation') },
        }),
      },
      tokens: { mutation: false, allowed: ['admin'], prepare: () => ({ query: '{ tokens { name } }' }) },
    };

    const cases = Object.entries(OPERATIONS).flatMap(([operation, op]) => ROLES.map((role) => [operation, role, op.allowed.includes(role) ? 'allowed' : 'FORBIDDEN'] as const));

    it.each(cases)('%s as %s: %s', async (operation, role, expected) => {
      const op = OPERATIONS[operation]!;
      const caller = callers[role];
      const prepared = await op.prepare();
      const head = await historyHead();
      const slice = prepared.sliceKey ? await sliceState(prepared.sliceKey) : null;

      const res = await caller.client.request(prepared.query, prepared.variables);

      if (expected === 'allowed') {
        expect(res.errors).toBeUndefined();
        expect(res.data).toEqual(expect.any(Object));
        if (op.mutation) expect((await historyHead()).actor).toBe(caller.name);
        else expect(await historyHead()).toEqual(head);
      } else {
        expectCode(res, 'FORBIDDEN');
        expect(res.errors![0]!.extensions?.errorCode).toBe('FORBIDDEN');
        expect(await historyHead()).toEqual(head);
        if (prepared.sliceKey) {
          expect(await sliceState(prepared.sliceKey)).toEqual(slice);
          if (slice === null) expect(await sliceHistoryLength(prepared.sliceKey)).toBe(0);
        }
      }
    });
  });
});
