import { createParamDecorator, type ExecutionContext, SetMetadata } from '@nestjs/common';
import { GqlExecutionContext } from '@nestjs/graphql';
import type { SwitchyardRequest } from '../common/http/request-id.middleware.js';
import type { Permission, Principal, Role } from './roles.js';

export const PERMISSION_KEY = 'switchyard:permission';
export const PUBLIC_KEY = 'switchyard:public';

/** The permission a handler needs. A handler without one (and not @Public) is refused: fail closed. */
export const Requires = (permission: Permission) => SetMetadata(PERMISSION_KEY, permission);

/** No token needed (health checks only). */
export const Public = () => SetMetadata(PUBLIC_KEY, true);

export interface AuthenticatedRequest extends SwitchyardRequest {
  principal?: Principal;
}

export function requestOf(context: ExecutionContext): AuthenticatedRequest {
  if (context.getType<'graphql' | 'http'>() === 'graphql') {
    return GqlExecutionContext.create(context).getContext<{ req: AuthenticatedRequest }>().req;
  }
  return context.switchToHttp().getRequest<AuthenticatedRequest>();
}

/** Who changes things and under which request: what every history row records. */
export interface Actor {
  readonly name: string;
  readonly requestId: string | null;
  /**
   * The caller's role, for the few rules that depend on who asks inside a change (an admin's
   * freeze override). Absent for the service's own actors (system, a plan): never an admin.
   */
  readonly role?: Role;
}

/** The authenticated caller as a history actor (set by AuthGuard before any handler runs). */
export const CurrentActor = createParamDecorator((_: unknown, context: ExecutionContext): Actor => {
  const req = requestOf(context);
  if (req.principal === undefined) throw new Error('CurrentActor used on a handler without authentication');
  return { name: req.principal.name, requestId: req.requestId ?? null, role: req.principal.role };
});
