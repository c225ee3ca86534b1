import { ApiError, currentCsrfToken, useCsrfToken } from './api.js';

export type Role = 'admin' | 'release-manager' | 'incident-responder' | 'viewer';

export interface Session {
  readonly name: string;
  readonly role: Role;
  readonly expiresAt: string;
}

/** What each role may do, as the service's role table says (README "Tokens and roles"). The service still refuses what is not allowed. */
export const may = {
  change: (s: Session) => s.role === 'admin' || s.role === 'release-manager',
  rollback: (s: Session) => s.role !== 'viewer',
  manageTokens: (s: Session) => s.role === 'admin',
};

async function sessionRequest(method: 'GET' | 'POST' | 'DELETE', body?: unknown, csrf = ''): Promise<Response> {
  try {
    return await fetch('/console/session', {
      method,
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-switchyard-csrf': csrf },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ApiError('The service did not answer.', 'NETWORK');
  }
}

async function sessionFrom(response: Response): Promise<Session> {
  const body = (await response.json().catch(() => ({}))) as Partial<Session & { csrfToken: string; message: string; code: string; errorCode: string }>;
  if (!response.ok) throw new ApiError(body.message ?? `HTTP ${response.status}`, body.code ?? 'UNAUTHENTICATED', body.errorCode ?? null);
  useCsrfToken(body.csrfToken ?? '');
  return { name: body.name!, role: body.role!, expiresAt: body.expiresAt! };
}

/** The session of this browser, or null when signed out. */
export async function currentSession(): Promise<Session | null> {
  const response = await sessionRequest('GET');
  if (response.ok && ((await response.clone().json()) as { signedIn?: boolean }).signedIn === false) return null;
  return sessionFrom(response);
}

/** Exchanges a token for a session. The token is not kept anywhere in the page afterwards. */
export async function signIn(token: string): Promise<Session> {
  return sessionFrom(await sessionRequest('POST', { token }));
}

/** Ends the session on the server: the cookie is worthless from then on, on every instance. */
export async function signOut(): Promise<void> {
  await sessionRequest('DELETE', undefined, currentCsrfToken());
  useCsrfToken('');
}
