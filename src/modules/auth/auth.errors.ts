import { AppError, createErrorFactory } from '../../platform/errors/errors.ts';

export const otpInvalid = createErrorFactory({
  code: 'OTP_INVALID',
  status: 400,
  title: 'The code is not valid',
});
export const otpExpired = createErrorFactory({
  code: 'OTP_EXPIRED',
  status: 400,
  title: 'The code has expired',
});
export const otpLocked = createErrorFactory({
  code: 'OTP_LOCKED',
  status: 423,
  title: 'Too many wrong codes; ask for a new one',
});
export const invalidCredentials = createErrorFactory({
  code: 'INVALID_CREDENTIALS',
  status: 401,
  title: 'Email or password is wrong',
});
export const accountNotVerified = createErrorFactory({
  code: 'ACCOUNT_NOT_VERIFIED',
  status: 403,
  title: 'Verify your email first',
});
export const accountDisabled = createErrorFactory({
  code: 'ACCOUNT_DISABLED',
  status: 403,
  title: 'This account is disabled',
});
export const accountDeleted = createErrorFactory({
  code: 'ACCOUNT_DELETED',
  status: 403,
  title: 'This account was deleted',
});
export const invalidRefreshToken = createErrorFactory({
  code: 'INVALID_REFRESH_TOKEN',
  status: 401,
  title: 'The refresh token is not valid',
});
export const refreshTokenReused = createErrorFactory({
  code: 'REFRESH_TOKEN_REUSED',
  status: 401,
  title: 'This refresh token was already used; every session it belongs to has been ended',
});
export const passwordIncorrect = createErrorFactory({
  code: 'PASSWORD_INCORRECT',
  status: 403,
  title: 'The password is wrong',
});
export const csrfInvalid = createErrorFactory({
  code: 'CSRF_INVALID',
  status: 403,
  title: 'Missing or invalid X-CSRF-Token',
});

export const rateLimited = (retryAfterSeconds: number, detail: string) =>
  new AppError({
    code: 'RATE_LIMITED',
    status: 429,
    title: 'Too many requests',
    detail,
    headers: { 'retry-after': String(retryAfterSeconds) },
  });

export const weakPassword = (path: string, message: string) =>
  new AppError({
    code: 'VALIDATION_FAILED',
    status: 400,
    title: 'Validation failed',
    detail: `The password ${message}.`,
    errors: [{ path, message }],
  });
