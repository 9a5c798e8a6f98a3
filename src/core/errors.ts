/**
 * DatapathError: an error the user can act on. `message` is one line saying what is wrong and
 * what to do; main.ts prints it (no stack unless --debug) and exits with `exitCode`.
 */
export class DatapathError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  /** A runtime failure: the cluster, a probe, an input we could not use at all. */
  error: 1,
  /** Bad flags or arguments. */
  usage: 2,
  /** A report was printed, but some inputs or probes failed: it is partial. */
  partial: 3,
  /** A pod, node or endpoint does not exist. */
  notFound: 4,
  /** RBAC or Pod Security forbids something the command needs. */
  forbidden: 5,
  /** `trace --expect`: the report's verdict is not the one expected. */
  unexpected: 6,
  /** Interrupted (Ctrl-C); a partial report was printed. */
  interrupted: 130,
} as const;

/**
 * UnavailableError: the API server could not answer now (5xx, 429, connection reset or refused):
 * the same request may succeed a moment later, so cleanup retries it.
 */
export class UnavailableError extends DatapathError {
  constructor(message: string) {
    super(message, EXIT.error);
  }
}

export class UsageError extends DatapathError {
  constructor(message: string) {
    super(message, EXIT.usage);
  }
}

export class NotFoundError extends DatapathError {
  constructor(message: string) {
    super(message, EXIT.notFound);
  }
}

export class ForbiddenError extends DatapathError {
  constructor(message: string) {
    super(message, EXIT.forbidden);
  }
}
