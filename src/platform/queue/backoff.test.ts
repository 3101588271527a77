import { describe, expect, it } from 'vitest';
import { messageIdFor, retryDelayMs } from './backoff.ts';

describe('retryDelayMs', () => {
  const noJitter = () => 0;

  it('doubles the delay after each failure', () => {
    const delays = [1, 2, 3, 4].map((failedAttempts) =>
      retryDelayMs({ failedAttempts, baseMs: 1_000, random: noJitter }),
    );
    expect(delays).toEqual([1_000, 2_000, 4_000, 8_000]);
  });

  it('caps the delay at ten minutes', () => {
    expect(retryDelayMs({ failedAttempts: 40, baseMs: 1_000, random: noJitter })).toBe(600_000);
  });

  it('takes off at most 20% as jitter', () => {
    expect(retryDelayMs({ failedAttempts: 1, baseMs: 1_000, random: () => 0.999_999 })).toBe(800);
  });
});

describe('messageIdFor', () => {
  it('keeps BullMQ-forbidden colons out and differs per attempt', () => {
    expect(messageIdFor('schedule:x', 0)).toBe('schedule%3Ax.0');
    expect(messageIdFor('a', 1)).not.toBe(messageIdFor('a', 0));
  });
});
