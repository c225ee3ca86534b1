/**
 * The first module the page runs (index.html names it first, `async`): it asks for the session and,
 * when the page opens on the slice list, for the list's rows at the same time, while the browser
 * is still fetching the rest of the application (Preact and some twenty modules). The rows are
 * asked with GETs, which need no CSRF token, so they need not wait for the session: the round
 * trips overlap each other and the module loading instead of following them (docs/console.md,
 * "Speed at 1,000 slices"). Then, once the rows are in, the list's stats. It imports only what
 * those requests need (api, session, slices-api), never Preact, so it runs as soon as those few
 * small modules have arrived.
 *
 * The same module instance is what main.tsx imports (one URL, one module), so the application takes
 * these answers over instead of asking again; each is taken once, by the first screen that needs it.
 */
import { currentSession, type Session } from './session.js';
import { listSlices, listSliceStats, type SliceCore, type SliceStats } from './slices-api.js';

/** The list's data asked for on load; null inside either: nobody was signed in then (ask again). */
export interface EarlyList {
  readonly rows: Promise<SliceCore[] | null>;
  readonly stats: Promise<ReadonlyMap<string, SliceStats> | null>;
}

/** `#/slices`, or no route at all: where the list is shown (main.tsx's useRoute). */
const onList = (location.hash.replace(/^#/, '') || '/slices') === '/slices';

let session: Promise<Session | null> | null = currentSession();
let list: EarlyList | null = onList ? askList(session) : null;

function askList(signedIn: Promise<Session | null>): EarlyList {
  // Sent before the session answers only when this browser says it signed in (a cookie the service
  // sets beside the session's, src/console/console.controller.ts): nobody signed in sends no
  // request that is refused.
  const hinted = document.cookie.split(';').some((c) => c.trim() === 'switchyard_signed_in=1');
  const asked = hinted ? listSlices() : null;
  // Refused if the session ended meanwhile: the session says so, and then the answer is not used.
  asked?.catch(() => undefined);
  const rows = signedIn.then((s) => (s === null ? null : (asked ?? listSlices())));
  // The stats only once the rows are in: on the embedded engine the service's queries share one
  // connection, and the stats' (traffic windows, followers, history) would hold up the rows'.
  const stats = rows.then((r) => (r === null ? null : listSliceStats()));
  return { rows, stats };
}

// Whoever takes them handles their failures; until then a failure is not an unhandled rejection.
session.catch(() => undefined);
list?.rows.catch(() => undefined);
list?.stats.catch(() => undefined);

/** The session asked for on load, the first time; null afterwards (then ask again). */
export function takeEarlySession(): Promise<Session | null> | null {
  const taken = session;
  session = null;
  return taken;
}

/** The slice list's rows and stats asked for on load, the first time; null afterwards. */
export function takeEarlyList(): EarlyList | null {
  const taken = list;
  list = null;
  return taken;
}
