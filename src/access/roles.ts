import { registerEnumType } from '@nestjs/graphql';

/** Roles, as stored and as named in the README. */
export const ROLES = ['admin', 'release-manager', 'incident-responder', 'viewer', 'sdk'] as const;
export type Role = (typeof ROLES)[number];

/** The GraphQL spelling of each role (enum values cannot contain '-'). */
export const RoleName = {
  ADMIN: 'admin',
  RELEASE_MANAGER: 'release-manager',
  INCIDENT_RESPONDER: 'incident-responder',
  VIEWER: 'viewer',
  SDK: 'sdk',
} as const satisfies Record<string, Role>;
registerEnumType(RoleName, { name: 'Role', description: 'What a token may do.' });

/** What an operation needs. Every resolver and controller method declares exactly one. */
export enum Permission {
  /** Read slices, segments, history, and evaluate. */
  READ = 'READ',
  /** Read the evaluable configuration (SDKs). */
  READ_CONFIG = 'READ_CONFIG',
  /** Create and change slices and segments, rollout and targeting, resume. */
  CHANGE_CONFIG = 'CHANGE_CONFIG',
  /** Send slices back to legacy. */
  ROLLBACK = 'ROLLBACK',
  /** Create, list and revoke tokens. */
  MANAGE_TOKENS = 'MANAGE_TOKENS',
  /** Lift a freeze: delete a freeze window, raise exposure during one with a reason (admins only). */
  OVERRIDE_FREEZE = 'OVERRIDE_FREEZE',
}

const READERS = [Permission.READ, Permission.READ_CONFIG];
const GRANTS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set(Object.values(Permission)),
  'release-manager': new Set([...READERS, Permission.CHANGE_CONFIG, Permission.ROLLBACK]),
  'incident-responder': new Set([...READERS, Permission.ROLLBACK]),
  viewer: new Set(READERS),
  sdk: new Set([Permission.READ_CONFIG]),
};

export function roleGrants(role: Role, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}

/** Who is calling: resolved from the bearer token on every request. */
export interface Principal {
  readonly tokenId: string;
  /** The token's name: the history actor. Never a client-supplied string. */
  readonly name: string;
  readonly role: Role;
  /** When the token stops being valid (null: never, unless revoked). */
  readonly expiresAt: Date | null;
}
