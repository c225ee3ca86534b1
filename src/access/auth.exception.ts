import { SwitchyardException } from '../common/errors/switchyard.exception.js';

export class AuthException extends SwitchyardException {
  override readonly name = 'AuthException';

  static unauthenticated(message = 'Send a valid token: Authorization: Bearer <token>.'): AuthException {
    return new AuthException('UNAUTHENTICATED', message);
  }

  static forbidden(role: string, permission: string): AuthException {
    return new AuthException('FORBIDDEN', `Role ${role} may not do this (needs ${permission}).`, { role, permission });
  }

  static csrfTokenMissing(): AuthException {
    return new AuthException('CSRF_TOKEN_MISSING', 'A request signed in by the console session cookie needs the header x-switchyard-csrf (GET /console/session gives it).');
  }

  static introspectionForbidden(role: string, permission: string): AuthException {
    return new AuthException('INTROSPECTION_FORBIDDEN', `Role ${role} may not read the schema (introspection needs ${permission}).`, { role, permission });
  }
}
