import { describe, expect, it } from 'vitest';
import {
  generateOtp,
  normalizeOtp,
  OTP_ALPHABET,
  otpUnusableReason,
  sendAllowance,
} from './otp.models.ts';

describe('generateOtp', () => {
  it('draws 6 characters from A–Z0–9', () => {
    for (let index = 0; index < 200; index++) expect(generateOtp()).toMatch(/^[A-Z0-9]{6}$/);
  });

  it('uses every character of the alphabet with the random source it is given', () => {
    let next = 0;
    const sequential = (max: number) => next++ % max;
    const seen = new Set<string>();
    for (let index = 0; index < 6; index++)
      for (const char of generateOtp(sequential)) seen.add(char);
    expect(seen.size).toBe(OTP_ALPHABET.length);
  });
});

describe('normalizeOtp', () => {
  it('forgives case and surrounding space, refuses anything else', () => {
    expect(normalizeOtp(' a9k3x7 ')).toBe('A9K3X7');
    expect(normalizeOtp('A9K3X')).toBeUndefined();
    expect(normalizeOtp('A9K3X77')).toBeUndefined();
    expect(normalizeOtp('A9K-X7')).toBeUndefined();
    expect(normalizeOtp('Ａ9K3X7')).toBeUndefined(); // full-width A
  });
});

describe('sendAllowance', () => {
  const at = (minutes: number) => new Date(Date.UTC(2026, 0, 1, 10, minutes));

  it('allows up to 3 sends in a rolling hour', () => {
    expect(sendAllowance({ sentAt: [at(0), at(10)], now: at(20) })).toEqual({ allowed: true });
    expect(sendAllowance({ sentAt: [at(0), at(10), at(20)], now: at(30) })).toEqual({
      allowed: false,
      retryAfterSeconds: 30 * 60,
    });
  });

  it('lets sends older than an hour fall out of the window', () => {
    expect(
      sendAllowance({ sentAt: [at(0), at(10), at(20)], now: new Date(at(60).getTime() + 1) }),
    ).toEqual({ allowed: true });
  });
});

describe('otpUnusableReason', () => {
  const now = new Date('2026-01-01T10:00:00Z');
  const fresh = {
    expiresAt: new Date('2026-01-01T10:05:00Z'),
    failedAttempts: 0,
    consumedAt: null,
  };
  it('names why a code cannot be used', () => {
    expect(otpUnusableReason(fresh, now)).toBeUndefined();
    expect(otpUnusableReason({ ...fresh, failedAttempts: 5 }, now)).toBe('locked');
    expect(otpUnusableReason(fresh, new Date('2026-01-01T10:05:00Z'))).toBe('expired');
    expect(otpUnusableReason({ ...fresh, consumedAt: now }, now)).toBe('consumed');
  });
});
