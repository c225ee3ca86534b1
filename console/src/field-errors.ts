import { ApiError } from './api.js';

/**
 * Where a refusal belongs in a form: the service names the offending field as a path
 * (`constraints[1].values[3]`, `rules[0].percent`, `reason`); a form shows it next to the input
 * whose path is the longest prefix of it, or at the top when none matches.
 */
export class FieldErrors {
  private constructor(
    private readonly error: ApiError | null,
    private readonly known: readonly string[],
  ) {}

  static none(): FieldErrors {
    return new FieldErrors(null, []);
  }

  static of(error: unknown, known: readonly string[]): FieldErrors {
    return new FieldErrors(error instanceof ApiError ? error : new ApiError(String(error), 'INTERNAL'), known);
  }

  /** The message for this input's path, when the refusal names it or something inside it. */
  at(path: string): string | null {
    return this.owner() === path ? this.message() : null;
  }

  /** The message when no input of the form owns the refusal. */
  general(): string | null {
    return this.error !== null && this.owner() === null ? this.message() : null;
  }

  private owner(): string | null {
    const field = this.error?.field;
    if (field === null || field === undefined) return null;
    const owners = this.known.filter((k) => field === k || field.startsWith(`${k}.`) || field.startsWith(`${k}[`));
    return owners.sort((a, b) => b.length - a.length)[0] ?? null;
  }

  private message(): string {
    const e = this.error!;
    return conflictMessage(e) ?? e.message;
  }
}

/** What a person is told when their edit started from a version that has moved on; null for other errors. */
export function conflictMessage(error: ApiError): string | null {
  if (error.errorCode?.endsWith('_VERSION_CONFLICT') !== true) return null;
  const current = error.details.currentVersion;
  return `Someone changed this meanwhile (now version ${typeof current === 'number' ? current : '?'}): nothing was changed. The page shows the new state; decide again.`;
}
