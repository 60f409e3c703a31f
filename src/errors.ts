/**
 * Errors the user can cause (bad flags, bad config, unreadable files). The CLI prints the message
 * (and hint) on one line and exits 2, without a stack trace unless --debug.
 */
export class UserError extends Error {
  readonly exitCode: number;
  constructor(
    message: string,
    readonly hint?: string,
    exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
    this.exitCode = exitCode;
  }
}

/** The cluster could not be reached at all (every endpoint failed): exit 3 per docs/ARCHITECTURE.md. */
export class UnreachableError extends UserError {
  constructor(message: string, hint?: string) {
    super(message, hint, 3);
    this.name = 'UnreachableError';
  }
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
