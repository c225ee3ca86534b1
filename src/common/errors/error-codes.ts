/**
 * Every error the service can return, each with its category.
 *
 * The category is what clients switch on: it is `extensions.code` in GraphQL (the codes GraphQL
 * clients already know) and decides the HTTP status on REST endpoints. The specific code is
 * `extensions.errorCode`: stable, documented, for logs and for clients that need the detail
 * ("which conflict?"). Messages are for people and may change; tests assert codes.
 *
 * Adding a code: add it here with its category; the `satisfies` below makes a missing or
 * misspelt category a compile error, and the mapper needs no change.
 */
export type ErrorCategory = 'BAD_USER_INPUT' | 'NOT_FOUND' | 'CONFLICT' | 'UNAUTHENTICATED' | 'FORBIDDEN' | 'PAYLOAD_TOO_LARGE' | 'SERVICE_UNAVAILABLE' | 'INTERNAL_SERVER_ERROR';

export const ERROR_CATEGORIES = {
  INVALID_INPUT: 'BAD_USER_INPUT',
  UNKNOWN_SEGMENT_REFERENCE: 'BAD_USER_INPUT',
  TRAFFIC_COUNTS_IMPLAUSIBLE: 'BAD_USER_INPUT',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',

  SLICE_NOT_FOUND: 'NOT_FOUND',
  SEGMENT_NOT_FOUND: 'NOT_FOUND',
  TOKEN_NOT_FOUND: 'NOT_FOUND',
  ROUTE_NOT_FOUND: 'NOT_FOUND',
  FREEZE_WINDOW_NOT_FOUND: 'NOT_FOUND',
  PLAN_NOT_FOUND: 'NOT_FOUND',

  SLICE_ALREADY_EXISTS: 'CONFLICT',
  SLICE_VERSION_CONFLICT: 'CONFLICT',
  SLICE_NOT_ACTIVE: 'CONFLICT',
  SLICE_NOT_ROLLED_BACK: 'CONFLICT',
  SLICE_ARCHIVED: 'CONFLICT',
  /** resumeSegment for a segment that is not rolled back on the slice: nothing to resume. */
  SLICE_SEGMENT_NOT_ROLLED_BACK: 'CONFLICT',
  SEGMENT_ALREADY_EXISTS: 'CONFLICT',
  SEGMENT_VERSION_CONFLICT: 'CONFLICT',
  SEGMENT_IN_USE: 'CONFLICT',
  TOKEN_NAME_TAKEN: 'CONFLICT',
  TOKEN_ALREADY_REVOKED: 'CONFLICT',
  IDEMPOTENCY_KEY_REUSED: 'CONFLICT',
  /** An exposure change refused during a freeze window (extensions: window, until, timeZone); an admin may override it with a reason. */
  FREEZE_WINDOW: 'CONFLICT',
  FREEZE_WINDOW_ALREADY_EXISTS: 'CONFLICT',
  FREEZE_WINDOW_VERSION_CONFLICT: 'CONFLICT',
  /** Already MAX_FREEZE_WINDOWS windows: delete one first. */
  FREEZE_WINDOW_LIMIT_REACHED: 'CONFLICT',
  /** createPlan on a slice that has a plan not finished yet (PENDING, RUNNING or PAUSED). */
  PLAN_ALREADY_OPEN: 'CONFLICT',
  PLAN_VERSION_CONFLICT: 'CONFLICT',
  /** A plan call its phase does not allow (start a running plan, pause a paused one...). */
  PLAN_WRONG_PHASE: 'CONFLICT',
  /** An exposure change by a person on a slice whose plan is RUNNING: pause or abort the plan first. */
  PLAN_RUNNING: 'CONFLICT',
  /** startPlan when the first step requires an approval not given yet. */
  PLAN_APPROVAL_REQUIRED: 'CONFLICT',
  /** Checkpoints asked for (signing one, verifying against one) on a service started with SWITCHYARD_CHECKPOINTS=off. */
  CHECKPOINTS_DISABLED: 'CONFLICT',

  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  /** __schema / __type asked by a token that may not read the schema (role sdk). */
  INTROSPECTION_FORBIDDEN: 'FORBIDDEN',
  /** A request authenticated by the console's session cookie, not a GET, without its `x-switchyard-csrf` header. */
  CSRF_TOKEN_MISSING: 'FORBIDDEN',
  /** A freeze override (or a change that lifts an active freeze) asked by someone who is not an admin. */
  FREEZE_OVERRIDE_FORBIDDEN: 'FORBIDDEN',
  /** approvePlanStep by the plan's own author: a step is approved by someone else. */
  PLAN_APPROVAL_BY_AUTHOR: 'FORBIDDEN',

  DATABASE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  SNAPSHOT_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  INTERNAL: 'INTERNAL_SERVER_ERROR',
} as const satisfies Record<string, ErrorCategory>;

export type ErrorCode = keyof typeof ERROR_CATEGORIES;

export const HTTP_STATUS: Record<ErrorCategory, number> = {
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  PAYLOAD_TOO_LARGE: 413,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};
