/**
 * The first module the page runs (index.html names it first, `async`): it asks for the session and,
 * when the page opens on the slice list, for the list's first page of rows, while the browser is
 * still fetching the rest of the application (Preact and some twenty modules). The two round trips
 * then overlap the module loading instead of following it (docs/console.md, "Speed at 1,000
 * slices"). It imports only what those requests need (api, session, slices-api), never Preact, so
 * it runs as soon as those few small modules have arrived.
 *
 * The same module instance is what main.tsx imports (one URL, one module), so the application takes
 * these answers over instead of asking again; each is taken once, by the first screen that needs it.
 */
import type { Page } from './api.js';
import { currentSession, type Session } from './session.js';
import { type SliceCore, slicesPage } from './slices-api.js';

/** `#/slices`, or no route at all: where the list is shown (main.tsx's useRoute). */
const onList = (location.hash.replace(/^#/, '') || '/slices') === '/slices';

let session: Promise<Session | null> | null = currentSession();
// Asked only once the session is known: the request needs the session's CSRF token, and nobody
// signed in gets nothing from it.
let firstPage: Promise<Page<SliceCore> | null> | null = onList ? session.then((s) => (s === null ? null : slicesPage(null))) : null;
// Whoever takes them handles their failures; until then a failure is not an unhandled rejection.
session.catch(() => undefined);
firstPage?.catch(() => undefined);

/** The session asked for on load, the first time; null afterwards (then ask again). */
export function takeEarlySession(): Promise<Session | null> | null {
  const taken = session;
  session = null;
  return taken;
}

/** The slice list's first page asked for on load (null inside: nobody was signed in), the first time; null afterwards. */
export function takeEarlySlicesPage(): Promise<Page<SliceCore> | null> | null {
  const taken = firstPage;
  firstPage = null;
  return taken;
}
