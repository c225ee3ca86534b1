import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { ReasonDialog } from './dialogs.js';
import { when } from './format.js';
import { may, type Session } from './session.js';
import { createToken, listTokens, revokeToken, TOKEN_ROLES, type TokenRole, type TokenRow } from './tokens-api.js';
import { ErrorLine } from './error-line.js';

interface Props {
  readonly session: Session;
}

/**
 * For admins: every token (never a secret: the service keeps hashes), a new one whose secret is
 * shown once, and revocation with a reason. Token changes are history, not configuration: the
 * live feed does not move with them, so the page reloads the list after each of its own actions.
 */
export function TokensPage({ session }: Props) {
  if (!may.manageTokens(session)) {
    return (
      <section>
        <h1>Tokens</h1>
        <p class="error" role="alert">
          Your role ({session.role}) may not manage tokens: ask an admin.
        </p>
      </section>
    );
  }
  return <TokenAdmin />;
}

function TokenAdmin() {
  const [tokens, setTokens] = useState<TokenRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<TokenRow | null>(null);
  // The new token's secret lives here, and only until its panel is closed.
  const [created, setCreated] = useState<{ name: string; secret: string } | null>(null);

  useEffect(() => {
    let current = true;
    listTokens().then(
      (rows) => current && (setTokens(rows), setError(null)),
      (e: unknown) => current && setError(e instanceof ApiError ? `${e.message} (${e.errorCode ?? e.code})` : String(e)),
    );
    return () => {
      current = false;
    };
  }, [reloads]);

  return (
    <section class="tokens-page">
      <div class="toolbar">
        <h1>Tokens</h1>
        <span class="count">{tokens === null ? '' : `${tokens.filter((t) => t.active).length} active of ${tokens.length}`}</span>
        {!creating && created === null && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New token
          </button>
        )}
      </div>
      {created !== null && <SecretPanel name={created.name} secret={created.secret} onClose={() => setCreated(null)} />}
      {creating && (
        <CreateTokenForm
          onCreated={(name, secret) => {
            setCreating(false);
            if (secret !== null) setCreated({ name, secret });
            setReloads((n) => n + 1);
          }}
          onCancel={() => setCreating(false)}
        />
      )}
      <ErrorLine message={error} />
      {tokens === null && error === null && <p class="loading">Loading tokens…</p>}
      {tokens !== null && (
        <table class="tokens">
          <thead>
            <tr>
              <th>Name</th>
              <th>Role</th>
              <th>Created by</th>
              <th>Created</th>
              <th>Expires</th>
              <th>Status</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.map((t) => (
              <tr key={t.id} data-token={t.name}>
                <td>{t.name}</td>
                <td>{t.role.toLowerCase().replace('_', ' ')}</td>
                <td>{t.createdBy}</td>
                <td>{when(t.createdAt)}</td>
                <td>{t.expiresAt === null ? 'never' : when(t.expiresAt)}</td>
                <td>
                  <span class={`status ${t.active ? 'status-up_to_date' : 'status-gone'}`}>
                    {t.revokedAt !== null ? `revoked ${when(t.revokedAt)}` : t.active ? 'active' : 'expired'}
                  </span>
                </td>
                <td>
                  {t.revokedAt === null && (
                    <button type="button" class="danger small" onClick={() => setRevoking(t)}>
                      Revoke…
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {revoking !== null && (
        <ReasonDialog
          title={`Revoke ${revoking.name}`}
          summary={`Every request made with ${revoking.name} is refused from its next one, and its console sessions end. This cannot be undone: a new token is needed.`}
          confirmLabel="Revoke"
          danger
          onConfirm={async (reason) => {
            await revokeToken(revoking.id, reason);
            setReloads((n) => n + 1);
          }}
          onClose={() => setRevoking(null)}
        />
      )}
    </section>
  );
}

const FIELDS = ['name', 'role', 'expiresAt', 'reason'] as const;

function CreateTokenForm({ onCreated, onCancel }: { onCreated: (name: string, secret: string | null) => void; onCancel: () => void }) {
  const [name, setName] = useState('');
  const [role, setRole] = useState<TokenRole>('VIEWER');
  const [expires, setExpires] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const fieldOf = (e: ApiError | null) => FIELDS.find((f) => e?.field === f) ?? null;
  const fieldError = (field: (typeof FIELDS)[number]) =>
    error !== null && fieldOf(error) === field ? (
      <span class="field-error" role="alert">
        {error.message}
      </span>
    ) : null;

  const submit = async (event: Event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setError(null);
    try {
      // datetime-local is the browser's local time, without a zone: Date reads it as such.
      const expiresAt = expires === '' ? null : new Date(expires).toISOString();
      const created = await createToken({ name: name.trim(), role, expiresAt, reason });
      onCreated(created.token.name, created.secret);
    } catch (e) {
      setError(e instanceof ApiError ? e : new ApiError(String(e), 'INTERNAL'));
      setBusy(false);
    }
  };

  return (
    <form class="panel create-token" onSubmit={(e) => void submit(e)}>
      <h2>New token</h2>
      <label>
        Name (recorded as the actor of every change made with it)
        <input name="token-name" value={name} onInput={(e) => setName(e.currentTarget.value)} required maxLength={100} placeholder="ci-deployer" />
        {fieldError('name')}
      </label>
      <label>
        Role
        <select name="token-role" value={role} onChange={(e) => setRole(e.currentTarget.value as TokenRole)}>
          {TOKEN_ROLES.map((r) => (
            <option value={r.value}>{r.label}</option>
          ))}
        </select>
        {fieldError('role')}
      </label>
      <label>
        Expires (optional; never when empty)
        <input name="token-expires" type="datetime-local" value={expires} onInput={(e) => setExpires(e.currentTarget.value)} />
        {fieldError('expiresAt')}
      </label>
      <label>
        Reason (recorded in history)
        <input name="token-reason" value={reason} onInput={(e) => setReason(e.currentTarget.value)} maxLength={2000} />
        {fieldError('reason')}
      </label>
      {error !== null && fieldOf(error) === null && (
        <p class="error" role="alert">
          {error.message}
        </p>
      )}
      <div class="actions">
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
        <button type="submit" class="primary" disabled={busy || name.trim() === ''}>
          {busy ? 'Creating…' : 'Create token'}
        </button>
      </div>
    </form>
  );
}

/**
 * The secret, once: the service keeps only its hash, so this is the only time anyone sees it.
 * Closing the panel drops it from the page's memory (this component's state goes with it).
 */
function SecretPanel({ name, secret, onClose }: { name: string; secret: string; onClose: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied('Copied.');
    } catch {
      setCopied('The browser refused to copy: select the secret and copy it by hand.');
    }
  };
  return (
    <div class="panel secret-panel" role="region" aria-label="New token secret">
      <h2>Token {name} created</h2>
      <p>Store the secret now: it is shown this once and cannot be shown again.</p>
      <div class="secret-row">
        <code class="secret">{secret}</code>
        <button type="button" onClick={() => void copy()}>
          Copy
        </button>
      </div>
      {copied !== null && (
        <p class="muted" role="status">
          {copied}
        </p>
      )}
      <div class="actions">
        <button type="button" class="primary" onClick={onClose}>
          I stored it: close
        </button>
      </div>
    </div>
  );
}
