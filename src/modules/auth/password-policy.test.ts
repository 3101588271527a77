import { describe, expect, it } from 'vitest';
import { passwordProblem } from './password-policy.ts';

describe('passwordProblem', () => {
  it('accepts a long uncommon password', () => {
    expect(passwordProblem('violet-harbour-7-lanterns')).toBeUndefined();
  });

  it('refuses the most common passwords whatever their case', () => {
    for (const password of ['password', 'Password1', '12345678', 'qwertyuiop', 'iloveyou']) {
      expect(passwordProblem(password), password).toMatch(/common|at least/);
    }
  });

  it('enforces 8–128 characters, counting characters not bytes', () => {
    expect(passwordProblem('short')).toMatch(/at least 8/);
    expect(passwordProblem('é'.repeat(8))).toMatch(/repeated/);
    expect(passwordProblem('ünïcødé-pässwörd')).toBeUndefined();
    expect(passwordProblem('x'.repeat(129))).toMatch(/at most 128/);
  });

  it('refuses the email address itself', () => {
    expect(passwordProblem('jonathan.smith', { email: 'jonathan.smith@example.com' })).toMatch(
      /email/,
    );
  });
});
