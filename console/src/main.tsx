import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { takeEarlySession } from './boot.js';
import type { JSX } from 'preact';
import { followChanges, type LiveState } from './live.js';
import { currentSession, may, type Session, signIn, signOut } from './session.js';
import { SliceList } from './slice-list.js';
import { ErrorLine } from './error-line.js';

/**
 * The screens other than the slice list, each loaded when first opened: the list (what an
 * incident starts from) waits only for its own modules, since a module graph runs only once all
 * of it has arrived; the server preloads just that graph (src/console/console-assets.ts).
 */
const PAGES = {
  slice: () => import('./slice-page.js'),
  segments: () => import('./segments-page.js'),
  plans: () => import('./plans-page.js'),
  freeze: () => import('./freeze-page.js'),
  history: () => import('./history-page.js'),
  tokens: () => import('./tokens-page.js'),
};
const loadedPages = new Map<() => Promise<unknown>, unknown>();

/** Renders `children` with the module `load` gives, once it has arrived (at once when it had before). */
function Lazy<M>({ load, children }: { load: () => Promise<M>; children: (module: M) => JSX.Element }) {
  const [state, setState] = useState<{ module: M } | { error: string } | null>(() => (loadedPages.has(load) ? { module: loadedPages.get(load) as M } : null));
  useEffect(() => {
    if (state !== null && 'module' in state) return;
    let current = true;
    load().then(
      (module) => {
        loadedPages.set(load, module);
        if (current) setState({ module });
      },
      (e: unknown) => current && setState({ error: `This screen could not be loaded (${String((e as Error)?.message ?? e)}); reload the page.` }),
    );
    return () => {
      current = false;
    };
  }, [load]);
  if (state === null) return <p class="loading">Loading…</p>;
  if ('error' in state) return <ErrorLine message={state.error} />;
  return children(state.module);
}

/** Where the page is: `#/slices` (the list) or `#/slices/<key>` (one slice). */
function useRoute(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return hash.replace(/^#/, '') || '/slices';
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => {
    (takeEarlySession() ?? currentSession()).then(setSession, (e: unknown) => {
      setSession(null);
      setProblem(e instanceof ApiError ? e.message : String(e));
    });
  }, []);
  if (session === undefined) return <p class="loading">Loading the console…</p>;
  if (session === null) return <SignIn problem={problem} onSignedIn={setSession} />;
  return <Console session={session} onSignedOut={() => setSession(null)} />;
}

function SignIn({ problem, onSignedIn }: { problem: string | null; onSignedIn: (s: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string | null>(problem);
  const submit = async (event: Event) => {
    event.preventDefault();
    try {
      const session = await signIn(token.trim());
      setToken('');
      onSignedIn(session);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    }
  };
  return (
    <main class="sign-in">
      <h1>Switchyard</h1>
      <form onSubmit={(e) => void submit(e)}>
        <label>
          Token
          <input name="token" type="password" autoComplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} required />
        </label>
        <button type="submit" class="primary">
          Sign in
        </button>
        <ErrorLine message={error} />
        <p class="muted">The token is exchanged for a session cookie and not kept in the page. Sign out ends the session.</p>
      </form>
    </main>
  );
}

function Console({ session, onSignedOut }: { session: Session; onSignedOut: () => void }) {
  const route = useRoute();
  const [revision, setRevision] = useState(0);
  const [live, setLive] = useState<LiveState>('connecting');
  useEffect(() => {
    const feed = followChanges(setRevision, setLive);
    return () => feed.close();
  }, []);
  const slice = /^\/slices\/(.+)$/.exec(route);
  const segment = /^\/segments\/(.+)$/.exec(route);
  return (
    <>
      <header class="top">
        <a class="brand" href="#/slices">
          Switchyard
        </a>
        <nav class="nav">
          <a href="#/slices">Slices</a>
          <a href="#/segments">Segments</a>
          <a href="#/plans">Plans</a>
          <a href="#/freeze-windows">Freeze windows</a>
          <a href="#/history">History</a>
          {may.manageTokens(session) && <a href="#/tokens">Tokens</a>}
        </nav>
        <span class={`live live-${live}`} role="status" title="Live updates from the service">
          {live === 'live' ? 'Live' : live === 'connecting' ? 'Connecting…' : 'Not connected: what you see may be out of date'}
        </span>
        <span class="who">
          {session.name} ({session.role})
        </span>
        <button type="button" onClick={() => void signOut().finally(onSignedOut)}>
          Sign out
        </button>
      </header>
      <main>
        {slice !== null ? (
          <Lazy key={slice[1]} load={PAGES.slice}>
            {(m) => <m.SlicePage session={session} sliceKey={decodeURIComponent(slice[1]!)} revision={revision} />}
          </Lazy>
        ) : route === '/new-segment' ? (
          <Lazy key="new" load={PAGES.segments}>
            {(m) => <m.SegmentEditor session={session} segmentKey={null} revision={revision} />}
          </Lazy>
        ) : segment !== null ? (
          <Lazy key={segment[1]} load={PAGES.segments}>
            {(m) => <m.SegmentEditor session={session} segmentKey={decodeURIComponent(segment[1]!)} revision={revision} />}
          </Lazy>
        ) : route === '/segments' ? (
          <Lazy key="segments" load={PAGES.segments}>
            {(m) => <m.SegmentList session={session} revision={revision} />}
          </Lazy>
        ) : route === '/plans' ? (
          <Lazy key="plans" load={PAGES.plans}>
            {(m) => <m.PlansPage revision={revision} />}
          </Lazy>
        ) : route === '/freeze-windows' ? (
          <Lazy key="freeze" load={PAGES.freeze}>
            {(m) => <m.FreezePage session={session} />}
          </Lazy>
        ) : route === '/history' ? (
          <Lazy key="history" load={PAGES.history}>
            {(m) => <m.HistoryPage revision={revision} />}
          </Lazy>
        ) : route === '/tokens' ? (
          <Lazy key="tokens" load={PAGES.tokens}>
            {(m) => <m.TokensPage session={session} />}
          </Lazy>
        ) : (
          <SliceList session={session} revision={revision} />
        )}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(<App />, root);
}
