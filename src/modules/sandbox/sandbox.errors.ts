import { AppError, createErrorFactory } from '../../platform/errors/errors.ts';

/** No isolation here (no bubblewrap, no root, a failed self-test): code is never run without it. */
export const sandboxUnavailable = createErrorFactory({
  code: 'SANDBOX_UNAVAILABLE',
  status: 503,
  title: 'Code cannot be run here',
});

export const languageNotAvailable = (language: string, offered: readonly string[]) =>
  new AppError({
    code: 'LANGUAGE_NOT_AVAILABLE',
    status: 400,
    title: 'Language not available',
    detail: `No ${language} toolchain here; offered: ${offered.join(', ') || 'none'}.`,
    errors: [{ path: 'body.language', message: `must be one of: ${offered.join(', ')}` }],
  });

/** The pool's queue is full: the client should come back, not wait forever. */
export const sandboxBusy = (retryAfterSeconds: number) =>
  new AppError({
    code: 'SANDBOX_BUSY',
    status: 503,
    title: 'Too many runs waiting',
    detail: `Every sandbox is busy and the queue is full; retry in ${retryAfterSeconds} s.`,
    headers: { 'retry-after': String(retryAfterSeconds) },
  });
