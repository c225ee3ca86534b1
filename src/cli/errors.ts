import { ExitCode } from './exit-codes.js';

/**
 * Every failure the CLI reports: what went wrong (the service's own message when it refused),
 * what to do about it, and the exit code scripts switch on. Thrown anywhere below `run`, printed
 * once there (never with the token).
 */
export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: ExitCode;
  /** What to do about it, in a sentence or two. */
  readonly hint: string | undefined;
  /** The service's `extensions.code` (or `NETWORK`, `TIMEOUT`, `HTTP`, `USAGE` for the CLI's own). */
  readonly code: string;
  /** The service's `extensions.errorCode`, when it gave one. */
  readonly errorCode: string | undefined;
  /** The rest of the service's extensions (`field`, `currentVersion`...), for `--json`. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(init: { exitCode: ExitCode; code: string; message: string; hint?: string; errorCode?: string; details?: Readonly<Record<string, unknown>> }) {
    super(init.message);
    this.exitCode = init.exitCode;
    this.code = init.code;
    this.hint = init.hint;
    this.errorCode = init.errorCode;
    this.details = init.details ?? {};
  }

  static usage(message: string, hint?: string): CliError {
    return new CliError({ exitCode: ExitCode.USAGE, code: 'USAGE', message, hint });
  }
}

/**
 * What a request is for, so that a refusal can say what to do: which role would be allowed,
 * which slice was meant, and whether a lost answer may hide an applied change.
 */
export interface Intent {
  /** Completes "this token's role may not ...": `change a rollout`, `read slices`. */
  readonly action: string;
  /** Completes "use ...": `a release-manager (or admin) token`. */
  readonly allowedTokens: string;
  readonly sliceKey?: string;
  readonly segmentKey?: string;
  /**
   * Where a refused field came from on this command line (`constraints[1].values[0]` -> "the
   * 2nd --constraint"), for the hint; undefined to name the field as the service does.
   */
  readonly describeField?: (field: string) => string | undefined;
  /** Set for changes: the key that makes a retry safe (the user's, or one the CLI made up). */
  readonly idempotencyKey?: string;
}

/** A GraphQL error as the service sends it. */
export interface ServiceError {
  readonly message: string;
  readonly extensions?: Readonly<Record<string, unknown>>;
}

/** Anyone who may read: every role but `sdk`. */
export const READ_TOKENS = 'a viewer, incident-responder, release-manager or admin token (an sdk token may not read)';
export const CHANGE_TOKENS = 'a release-manager (or admin) token';
export const ROLLBACK_TOKENS = 'an incident-responder, release-manager or admin token';
export const ADMIN_TOKENS = 'an admin token';

const HOW_TO_GET_A_TOKEN =
  'An admin creates one with `switchyard token create <name> --role <role>` (or the createToken mutation): viewer to read, release-manager to change, incident-responder to roll back; its secret is shown once.';

export function missingTokenError(): CliError {
  return CliError.usage('No token: set SWITCHYARD_TOKEN (or pass --token).', HOW_TO_GET_A_TOKEN);
}

/** The first error of a GraphQL response, as the exit code and advice that fit it. */
export function serviceError(error: ServiceError, intent: Intent, requestId: string | null): CliError {
  const { code: rawCode, errorCode: rawErrorCode, ...details } = error.extensions ?? {};
  const code = typeof rawCode === 'string' ? rawCode : 'UNKNOWN';
  const errorCode = typeof rawErrorCode === 'string' ? rawErrorCode : undefined;
  const base = { code, errorCode, message: error.message, details };

  switch (code) {
    case 'UNAUTHENTICATED':
      return new CliError({
        ...base,
        exitCode: ExitCode.AUTH,
        hint: `The token was refused: unknown, expired or revoked. Check SWITCHYARD_TOKEN or --token. ${HOW_TO_GET_A_TOKEN}`,
      });
    case 'FORBIDDEN': {
      const role = typeof details.role === 'string' ? details.role : 'of this token';
      return new CliError({ ...base, exitCode: ExitCode.AUTH, hint: `This token's role (${role}) may not ${intent.action}: use ${intent.allowedTokens}.` });
    }
    case 'NOT_FOUND':
      if (errorCode === 'ROUTE_NOT_FOUND') {
        // The service answered, but not at this path: a wrong --url, as good as unreachable.
        return new CliError({
          ...base,
          exitCode: ExitCode.UNAVAILABLE,
          hint: `Check --url / SWITCHYARD_URL: it should be the service's base URL, e.g. http://switchyard.internal:4000 (or that URL followed by /graphql).`,
        });
      }
      return new CliError({ ...base, exitCode: ExitCode.REFUSED, hint: NOT_FOUND_HINTS[errorCode ?? ''] });
    case 'CONFLICT':
      return new CliError({ ...base, exitCode: ExitCode.REFUSED, hint: conflictHint(errorCode, details, intent) });
    case 'BAD_USER_INPUT': {
      const field = typeof details.field === 'string' ? details.field : undefined;
      if (errorCode === 'UNKNOWN_SEGMENT_REFERENCE') {
        return new CliError({
          ...base,
          exitCode: ExitCode.REFUSED,
          hint: 'Targeting names segments that must exist: create it first (`switchyard segment create`), or check the key with `switchyard segment list`. Nothing was changed.',
        });
      }
      const where = field === undefined ? undefined : (intent.describeField?.(field) ?? field);
      return new CliError({ ...base, exitCode: ExitCode.REFUSED, hint: where ? `Fix ${where} and run the command again; nothing was changed.` : 'Nothing was changed.' });
    }
    case 'PAYLOAD_TOO_LARGE':
      return new CliError({ ...base, exitCode: ExitCode.REFUSED, hint: 'Send less at once; nothing was changed.' });
    case 'GRAPHQL_VALIDATION_FAILED':
    case 'GRAPHQL_PARSE_FAILED':
      return new CliError({
        ...base,
        exitCode: ExitCode.REFUSED,
        hint: 'The service does not understand what this CLI asked: it is probably older than the CLI (a field is missing). Upgrade the service, or use the CLI of its version.',
      });
    case 'SERVICE_UNAVAILABLE':
      return new CliError({
        ...base,
        exitCode: ExitCode.UNAVAILABLE,
        hint: 'The service cannot reach its database; nothing was changed. Retry shortly (SDKs keep deciding from their last configuration meanwhile).',
      });
    case 'INTERNAL_SERVER_ERROR':
      return new CliError({
        ...base,
        exitCode: ExitCode.UNAVAILABLE,
        hint: `The service failed unexpectedly; nothing was changed. Retry; if it persists, give the request id${requestId ? ` (${requestId})` : ''} to whoever runs the service.`,
      });
    default:
      return new CliError({ ...base, exitCode: ExitCode.REFUSED });
  }
}

const NOT_FOUND_HINTS: Readonly<Record<string, string>> = {
  SLICE_NOT_FOUND: 'Check the key (keys are lowercase); `switchyard status` lists every slice.',
  SEGMENT_NOT_FOUND: 'Check the key (keys are lowercase); `switchyard segment list` lists every segment.',
  TOKEN_NOT_FOUND: '`switchyard token list` lists every token, with its id.',
};

function conflictHint(errorCode: string | undefined, details: Readonly<Record<string, unknown>>, intent: Intent): string | undefined {
  const key = intent.sliceKey ?? '<slice>';
  const segment = intent.segmentKey ?? '<segment>';
  const current = typeof details.currentVersion === 'number' ? details.currentVersion : undefined;
  switch (errorCode) {
    case 'SLICE_VERSION_CONFLICT':
      return `Someone changed the slice since you read it${current !== undefined ? ` (it is at version ${current} now)` : ''}. Look at it with \`switchyard status ${key}\`, then retry with --expected-version ${current ?? '<version>'} if the change still makes sense.`;
    case 'SEGMENT_VERSION_CONFLICT':
      return `Someone changed the segment since you read it${current !== undefined ? ` (it is at version ${current} now)` : ''}. Look at it with \`switchyard segment show ${segment}\`, then retry with --expected-version ${current ?? '<version>'} if the change still makes sense.`;
    case 'SLICE_ALREADY_EXISTS':
      return `A slice with this key exists already: \`switchyard status ${key}\` shows it; \`switchyard slice update\` changes its description, owner and tags.`;
    case 'SEGMENT_ALREADY_EXISTS':
      return `A segment with this key exists already: \`switchyard segment show ${segment}\` shows it; \`switchyard segment update\` changes it.`;
    case 'SEGMENT_IN_USE': {
      const usedBy = Array.isArray(details.usedBy) ? details.usedBy.filter((k): k is string => typeof k === 'string') : [];
      return `Slices still target it or have it rolled back${usedBy.length > 0 ? ` (${usedBy.join(', ')})` : ''}: remove it from their targeting first (\`switchyard targeting set <slice> ...\`) or resume it (\`switchyard resume <slice> --segment ${segment} ...\`), then delete it.`;
    }
    case 'TOKEN_NAME_TAKEN':
      return 'Token names are unique, revoked tokens included (the name is the actor in history): choose another name. `switchyard token list` shows the names in use.';
    case 'TOKEN_ALREADY_REVOKED':
      return 'The token is revoked already: nothing to do.';
    case 'SLICE_NOT_ACTIVE':
      return `The slice is rolled back (or archived), so its rollout cannot change. Resume it first: switchyard resume ${key} --reason "..."`;
    case 'SLICE_NOT_ROLLED_BACK':
      return `The slice is not rolled back, so there is nothing to resume (\`switchyard status ${key}\` shows its state).`;
    case 'SLICE_SEGMENT_NOT_ROLLED_BACK':
      return `That segment is not rolled back on this slice, so there is nothing to resume (\`switchyard history ${key}\` shows which segments were rolled back and resumed).`;
    case 'SLICE_ARCHIVED':
      return 'The slice is archived: its migration is over and it can no longer change.';
    case 'FREEZE_WINDOW': {
      const window = typeof details.window === 'string' ? details.window : undefined;
      const until = typeof details.until === 'string' ? details.until : undefined;
      return `A freeze window${window !== undefined ? ` (${window})` : ''} is on${until !== undefined ? ` until ${until}` : ''}: exposure cannot be raised now (\`switchyard freeze list\` shows the windows). Rollback is always allowed; an admin may apply it anyway with --freeze-override "<reason>", which is recorded.`;
    }
    case 'PLAN_RUNNING':
      return `A running plan moves this slice: \`switchyard plan status ${key}\` shows where it is; \`switchyard plan pause ${key}\` (or abort) first to change it by hand. Rollback needs no pause.`;
    case 'PLAN_ALREADY_OPEN':
      return `The slice has a plan that is not finished: \`switchyard plan status ${key}\` shows it; \`switchyard plan abort ${key}\` ends it.`;
    case 'PLAN_APPROVAL_BY_AUTHOR':
      return "A step is approved by someone other than the plan's author: ask another release manager or an admin.";
    case 'PLAN_APPROVAL_REQUIRED':
      return `The first step needs an approval before the plan starts: someone other than the author runs \`switchyard plan approve ${key} 1\`.`;
    case 'PLAN_WRONG_PHASE':
      return `\`switchyard plan status ${key}\` shows the plan's phase and what it may do next.`;
    case 'IDEMPOTENCY_KEY_REUSED':
      return 'This --idempotency-key was already used for a different change: use a new key.';
    case 'CHECKPOINTS_DISABLED':
      return 'The service runs with SWITCHYARD_CHECKPOINTS=off. Verify a published checkpoint offline: switchyard verify-history --file <export> --checkpoint <file> --public-key <file>.';
    default:
      return undefined;
  }
}
