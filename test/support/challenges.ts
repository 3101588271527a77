import { expect } from 'vitest';
import type { TestApp } from './app.ts';
import { bearer, type Tokens } from './auth.ts';

/**
 * A challenge created through the API (python unless the payload says otherwise), and its
 * tests when any are given; throws on anything but success. Returns its id.
 */
export async function createChallenge(
  t: TestApp,
  who: Tokens,
  payload: Record<string, unknown>,
  tests: Array<Record<string, unknown>> = [],
): Promise<string> {
  const created = await t.app.inject({
    method: 'POST',
    url: '/api/v1/challenges',
    headers: bearer(who),
    payload: { statement: 'A statement.', languages: ['python'], ...payload },
  });
  expect(created.statusCode, created.body).toBe(201);
  const id = created.json().id as string;
  if (tests.length > 0) {
    const added = await t.app.inject({
      method: 'POST',
      url: `/api/v1/challenges/${id}/testcases`,
      headers: bearer(who),
      payload: tests,
    });
    expect(added.statusCode, added.body).toBe(201);
  }
  return id;
}

/** Submits a program (python unless told) and returns the submission's id; 202 or it throws. */
export async function submitProgram(
  t: TestApp,
  who: Tokens,
  input: { challengeId: string; source: string; language?: string },
): Promise<string> {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/v1/submissions',
    headers: bearer(who),
    payload: { language: 'python', ...input },
  });
  expect(response.statusCode, response.body).toBe(202);
  return response.json().id as string;
}
