import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { takeEarlySession } from './boot.js';
import { FreezePage } from './freeze-page.js';
import { HistoryPage } from './history-page.js';
import { followChanges, type LiveState } from './live.js';
import { currentSession, may, type Session, signIn, signOut } from './session.js';
import { PlansPage } from './plans-page.js';
import { SliceList } from './slice-list.js';
import { SlicePage } from './slice-page.js';
import { SegmentEditor, SegmentList } from './segments-page.js';
import { TokensPage } from './tokens-page.js';
import { ErrorLine } from './error-line.js';

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
          <SlicePage key={slice[1]} session={session} sliceKey={decodeURIComponent(slice[1]!)} revision={revision} />
        ) : route === '/new-segment' ? (
          <SegmentEditor key="new" session={session} segmentKey={null} revision={revision} />
        ) : segment !== null ? (
          <SegmentEditor key={segment[1]} session={session} segmentKey={decodeURIComponent(segment[1]!)} revision={revision} />
        ) : route === '/segments' ? (
          <SegmentList session={session} revision={revision} />
        ) : route === '/plans' ? (
          <PlansPage revision={revision} />
        ) : route === '/freeze-windows' ? (
          <FreezePage session={session} />
        ) : route === '/history' ? (
          <HistoryPage revision={revision} />
        ) : route === '/tokens' ? (
          <TokensPage session={session} />
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
