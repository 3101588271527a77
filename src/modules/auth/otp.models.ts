import { randomInt } from 'node:crypto';

export const OTP_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const OTP_LENGTH = 6;
export const OTP_TTL_MS = 5 * 60 * 1000;
export const OTP_MAX_FAILED_ATTEMPTS = 5;
export const OTP_SENDS_PER_HOUR = 3;
export const OTP_SEND_WINDOW_MS = 3600 * 1000;
/** A new code never equals any of this many most recent ones. */
export const OTP_HISTORY_SIZE = 20_000;

/** A code drawn from the CSPRNG: each character uniform over A–Z0–9 (randomInt has no modulo bias). */
export function generateOtp(random: (max: number) => number = randomInt): string {
  let code = '';
  for (let index = 0; index < OTP_LENGTH; index++)
    code += OTP_ALPHABET[random(OTP_ALPHABET.length)];
  return code;
}

/** What a user may type: case and surrounding spaces are forgiven, anything else is not a code. */
export function normalizeOtp(input: string): string | undefined {
  const code = input.trim().toUpperCase();
  return new RegExp(`^[A-Z0-9]{${OTP_LENGTH}}$`).test(code) ? code : undefined;
}

/**
 * Sliding-window send limit: given when the codes/notices of the last hour went out, either
 * allow another or say how many seconds until the oldest leaves the window.
 */
export function sendAllowance(options: {
  sentAt: readonly Date[];
  now: Date;
  limit?: number;
  windowMs?: number;
}): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
  const limit = options.limit ?? OTP_SENDS_PER_HOUR;
  const windowMs = options.windowMs ?? OTP_SEND_WINDOW_MS;
  const now = options.now.getTime();
  const inWindow = options.sentAt
    .map((at) => at.getTime())
    .filter((at) => at > now - windowMs)
    .sort((a, b) => a - b);
  if (inWindow.length < limit) return { allowed: true };
  const oldestThatMustExpire = inWindow[inWindow.length - limit]!;
  return {
    allowed: false,
    retryAfterSeconds: Math.max(1, Math.ceil((oldestThatMustExpire + windowMs - now) / 1000)),
  };
}

export type OtpState = { expiresAt: Date; failedAttempts: number; consumedAt: Date | null };

/** Why a stored code cannot be used any more, if it cannot. */
export function otpUnusableReason(
  code: OtpState,
  now: Date,
): 'consumed' | 'locked' | 'expired' | undefined {
  if (code.consumedAt) return 'consumed';
  if (code.failedAttempts >= OTP_MAX_FAILED_ATTEMPTS) return 'locked';
  if (now.getTime() >= code.expiresAt.getTime()) return 'expired';
  return undefined;
}
