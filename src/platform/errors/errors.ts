/**
 * Domain errors. Services throw these; one handler (platform/http/problem.ts) turns them into
 * RFC 9457 problem documents. Status codes live here, in the factories, and nowhere else.
 */
export type FieldError = { path: string; message: string };

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  readonly errors: FieldError[] | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(options: {
    code: string;
    status: number;
    title: string;
    detail?: string;
    errors?: FieldError[];
    headers?: Record<string, string>;
    cause?: unknown;
  }) {
    super(options.detail ?? options.title, { cause: options.cause });
    this.name = 'AppError';
    this.code = options.code;
    this.status = options.status;
    this.title = options.title;
    this.errors = options.errors;
    this.headers = options.headers;
  }
}

export const isAppError = (error: unknown): error is AppError => error instanceof AppError;

type ErrorFactory = (detail?: string) => AppError;

/** Builds a factory for one kind of error, e.g. `createErrorFactory({ code: 'QUIZ_NOT_FOUND', status: 404, title: 'Quiz not found' })`. */
export function createErrorFactory(options: {
  code: string;
  status: number;
  title: string;
}): ErrorFactory {
  return (detail) => new AppError({ ...options, ...(detail ? { detail } : {}) });
}

export const validationFailed = (errors: FieldError[], detail = 'The request is not valid.') =>
  new AppError({
    code: 'VALIDATION_FAILED',
    status: 400,
    title: 'Validation failed',
    detail,
    errors,
  });

export const notFound = createErrorFactory({ code: 'NOT_FOUND', status: 404, title: 'Not found' });

export const conflict = createErrorFactory({ code: 'CONFLICT', status: 409, title: 'Conflict' });
