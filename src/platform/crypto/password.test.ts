import { describe, expect, it } from 'vitest';
import { hashPassword, verifyPassword } from './password.ts';

describe('password hashing', () => {
  it('hashes with argon2id at the chosen cost and verifies only the right password', async () => {
    const hash = await hashPassword('violet-harbour-7-lanterns');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=47104,p=1,t=1\$/);
    expect(await verifyPassword(hash, 'violet-harbour-7-lanterns')).toBe(true);
    expect(await verifyPassword(hash, 'violet-harbour-7-lantern')).toBe(false);
    expect(await verifyPassword('not a hash', 'x')).toBe(false);
  });

  it('finishes every one of a burst larger than the concurrency gate', async () => {
    const hash = await hashPassword('burst-password-123');
    const results = await Promise.all(
      Array.from({ length: 12 }, () => verifyPassword(hash, 'burst-password-123')),
    );
    expect(results.every(Boolean)).toBe(true);
  });
});
