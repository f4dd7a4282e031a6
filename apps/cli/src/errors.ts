/**
 * Exit codes that mean something to a script (`gh` uses the same split): 1 the request failed, 2 the command line
 * was wrong, 4 no valid credentials, 130 interrupted by Ctrl+C.
 */
export const EXIT = { failure: 1, usage: 2, auth: 4, interrupted: 130 } as const;

/** A failure the user should read as one line on stderr; never shown with a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failure,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: Array<{ field: string; message: string }>;
}

/** An error answer of the server, in the contract's shape (`{ statusCode, error, message }`). */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly serverMessage: string,
    readonly details: Array<{ field: string; message: string }> = [],
    readonly retryAfter: string | null = null,
  ) {
    super(describeApiError(code, serverMessage, details, retryAfter), exitCodeFor(code));
    this.name = 'ApiError';
  }
}

function exitCodeFor(code: string): number {
  return code === 'unauthorized' || code === 'account_disabled' ? EXIT.auth : EXIT.failure;
}

function describeApiError(
  code: string,
  message: string,
  details: Array<{ field: string; message: string }>,
  retryAfter: string | null,
): string {
  const detail = details.map((d) => `${d.field}: ${d.message}`).join('; ');
  const body = detail ? `${message} (${detail})` : message;
  const hint = retryAfter ? `; retry in ${retryAfter} s` : '';
  return `${body} [${code}]${hint}`;
}
