import { type Command, Option } from 'commander';
import { type ChangeFlags, idempotencyKeyOption, optionalReasonOption, sendChange } from '../change-options.js';
import { ADMIN_TOKENS, CliError, type Intent } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatTime, table } from '../output.js';
import { parseInstant, parseRole, type Role } from '../parsers.js';
import type { OpenSession } from '../session.js';

/** A token as the API describes it: never its secret. */
interface TokenView {
  id: string;
  name: string;
  role: Role;
  active: boolean;
  createdBy: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

const TOKEN_FIELDS = 'id name role active createdBy createdAt expiresAt revokedAt';
const LIST = `{ tokens { ${TOKEN_FIELDS} } }`;
const CREATE = `mutation($name: String!, $role: Role!, $expiresAt: DateTime, $reason: String, $idempotencyKey: String) {
  createToken(name: $name, role: $role, expiresAt: $expiresAt, reason: $reason, idempotencyKey: $idempotencyKey) { secret token { ${TOKEN_FIELDS} } }
}`;
const REVOKE = `mutation($id: ID!, $reason: String, $idempotencyKey: String) {
  revokeToken(id: $id, reason: $reason, idempotencyKey: $idempotencyKey) { ${TOKEN_FIELDS} }
}`;

const READ_INTENT: Intent = { action: 'manage tokens', allowedTokens: ADMIN_TOKENS };

const ROLES_HELP = `Roles:
  viewer              read slices, segments, history (every read command)
  incident-responder  read, and roll back
  release-manager     read, roll back, and change slices, segments, targeting
  admin               all of that, and tokens
  sdk                 for services: read the configuration (/sdk/v1, /api/client); no CLI command`;

/**
 * `switchyard token create|list|revoke` (admin). The secret is printed once, alone on stdout, so
 * that `TOKEN=$(switchyard token create ...)` captures it and nothing else; what it is goes to
 * stderr. The service keeps only its hash.
 */
export function registerTokenCommands(program: Command, open: OpenSession): void {
  const token = program.command('token').description('API tokens (admin): create one (its secret is shown once), list them, revoke one');

  token
    .command('create')
    .description('create a token and print its secret, once, alone on stdout (the details go to stderr)')
    .argument('<name>', 'unique, recorded as the actor of every change made with the token (1 to 100 letters, digits, spaces or ._@:/-)')
    .addOption(new Option('--role <role>', 'what it may do: viewer, incident-responder, release-manager, admin or sdk').argParser(parseRole).makeOptionMandatory())
    .addOption(new Option('--expires-at <time>', 'when it stops working, with its zone, e.g. 2026-12-31T18:00:00Z (default: never)').argParser(parseInstant))
    .addOption(optionalReasonOption())
    .addOption(idempotencyKeyOption())
    .addHelpText('after', `\n${ROLES_HELP}`)
    .action(async (name: string, options: ChangeFlags & { role: Role; expiresAt?: string }, command: Command) => {
      const session = open(command);
      const { data, idempotencyKey } = await sendChange<{ createToken: { secret: string | null; token: TokenView } }>(
        session,
        CREATE,
        { name, role: options.role, expiresAt: options.expiresAt ?? null },
        READ_INTENT,
        options,
      );
      const { secret, token: t } = data.createToken;
      const { out } = session;
      if (out.json) {
        out.result({ token: t, secret, idempotencyKey }, () => '');
        return;
      }
      if (secret !== null) out.raw(`${secret}\n`);
      const what = `token "${t.name}" (${t.role}, id ${t.id}, ${t.expiresAt ? `expires ${formatTime(t.expiresAt)}` : 'no expiry'})`;
      out.note(
        secret === null
          ? `${what} was created by an earlier run with this idempotency key; its secret was shown then and is not kept. If it was lost, revoke the token and create another.`
          : `Created ${what}. Its secret, above, is shown this once: store it now (only its hash is kept).`,
      );
    });

  token
    .command('list')
    .description('every token, revoked and expired ones included (never their secrets)')
    .action(async (_options: unknown, command: Command) => {
      const { client, out } = open(command);
      const { tokens } = await client.request<{ tokens: TokenView[] }>(LIST, {}, READ_INTENT);
      out.result(tokens, () => {
        if (tokens.length === 0) return 'No tokens.';
        const active = tokens.filter((t) => t.active).length;
        return (
          table(
            tokens,
            [
              { header: 'NAME', value: (t) => t.name, shrinkTo: 10 },
              { header: 'ROLE', value: (t) => t.role },
              { header: 'STATUS', value: (t) => (t.revokedAt ? 'revoked' : t.active ? 'active' : 'expired') },
              { header: 'EXPIRES', value: (t) => (t.expiresAt ? formatTime(t.expiresAt) : 'never') },
              { header: 'CREATED', value: (t) => formatTime(t.createdAt) },
              { header: 'BY', value: (t) => t.createdBy, shrinkTo: 8 },
              { header: 'ID', value: (t) => t.id },
            ],
            out.width,
          ) + `\n${tokens.length} token${tokens.length === 1 ? '' : 's'}, ${active} active.\n`
        );
      });
    });

  token
    .command('revoke')
    .description('revoke a token, by id or name: it is refused from its next request on')
    .argument('<token>', 'its id or its name (`switchyard token list` shows both)')
    .addOption(optionalReasonOption())
    .addOption(idempotencyKeyOption())
    .action(async (which: string, options: ChangeFlags, command: Command) => {
      const session = open(command);
      const target = await findToken(session.client, which);
      const { data, idempotencyKey } = await sendChange<{ revokeToken: TokenView }>(session, REVOKE, { id: target.id }, READ_INTENT, options);
      const t = data.revokeToken;
      session.out.result({ ...t, idempotencyKey }, () => `token "${t.name}" (${t.role}, id ${t.id}): revoked; it is refused from its next request on.`);
    });
}

/**
 * The token a name or id means. Names are unique and ids are UUIDs, so one matches at most one
 * token each; a name that is also another token's id is refused rather than guessed.
 */
async function findToken(client: ReturnType<OpenSession>['client'], which: string): Promise<TokenView> {
  const { tokens } = await client.request<{ tokens: TokenView[] }>(LIST, {}, READ_INTENT);
  const byId = tokens.find((t) => t.id === which);
  const byName = tokens.find((t) => t.name === which);
  if (byId !== undefined && byName !== undefined && byId !== byName) {
    throw CliError.usage(`"${which}" is the id of one token and the name of another.`, `Pass the id: ${byId.id} (named "${byId.name}") or ${byName.id} (named "${byName.name}").`);
  }
  const found = byId ?? byName;
  if (found === undefined) {
    throw new CliError({
      exitCode: ExitCode.REFUSED,
      code: 'NOT_FOUND',
      errorCode: 'TOKEN_NOT_FOUND',
      message: `No token with the id or name "${which}".`,
      hint: '`switchyard token list` lists every token, with its id.',
    });
  }
  return found;
}
