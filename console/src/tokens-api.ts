import { graphql, idempotencyKey } from './api.js';

/** The API's Role enum (the session says the same roles in lower case: `release-manager`). */
export type TokenRole = 'ADMIN' | 'RELEASE_MANAGER' | 'INCIDENT_RESPONDER' | 'VIEWER' | 'SDK';

export const TOKEN_ROLES: readonly { value: TokenRole; label: string }[] = [
  { value: 'VIEWER', label: 'viewer: reads everything' },
  { value: 'INCIDENT_RESPONDER', label: 'incident responder: reads, rolls back' },
  { value: 'RELEASE_MANAGER', label: 'release manager: changes slices and segments' },
  { value: 'ADMIN', label: 'admin: everything, tokens included' },
  { value: 'SDK', label: 'sdk: evaluates only (for services)' },
];

export interface TokenRow {
  readonly id: string;
  readonly name: string;
  readonly role: TokenRole;
  readonly createdBy: string;
  readonly createdAt: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly active: boolean;
}

const TOKEN_FIELDS = 'id name role createdBy createdAt expiresAt revokedAt active';

/** Every token, revoked and expired ones included; never a secret (the API keeps only hashes). */
export async function listTokens(): Promise<TokenRow[]> {
  return (await graphql<{ tokens: TokenRow[] }>(`query ConsoleTokens { tokens { ${TOKEN_FIELDS} } }`)).tokens;
}

/** Creates a token; its secret is in the answer and nowhere else, ever. */
export async function createToken(input: { name: string; role: TokenRole; expiresAt: string | null; reason: string }): Promise<{ token: TokenRow; secret: string | null }> {
  const data = await graphql<{ createToken: { token: TokenRow; secret: string | null } }>(
    `mutation ConsoleCreateToken($name: String!, $role: Role!, $expiresAt: DateTime, $reason: String, $idem: String) {
      createToken(name: $name, role: $role, expiresAt: $expiresAt, reason: $reason, idempotencyKey: $idem) { secret token { ${TOKEN_FIELDS} } } }`,
    { ...input, idem: idempotencyKey() },
  );
  return data.createToken;
}

export async function revokeToken(id: string, reason: string): Promise<void> {
  await graphql(
    `
      mutation ConsoleRevokeToken($id: ID!, $reason: String, $idem: String) {
        revokeToken(id: $id, reason: $reason, idempotencyKey: $idem) {
          id
          active
        }
      }
    `,
    {
      id,
      reason,
      idem: idempotencyKey(),
    },
  );
}
