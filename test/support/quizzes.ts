import { randomUUID } from 'node:crypto';
import { createChallengesRepository } from '../../src/modules/challenges/challenges.repository.ts';
import type { TestApp } from './app.ts';
import { bearer, type Tokens } from './auth.ts';

/**
 * A live challenge for tests of what refers to one (code questions), stored directly: the API
 * offers only languages whose sandbox works, and these tests do not judge anything.
 */
export async function storedChallenge(t: TestApp, who: Tokens, title = 'Sum two numbers') {
  const at = new Date();
  const row = await createChallengesRepository(t.deps.database.db).insert({
    id: randomUUID(),
    title,
    statement: 'Read two integers; print their sum.',
    difficulty: 'easy',
    languages: ['python'],
    timeLimitMs: 1000,
    memoryLimitMb: 128,
    starterCode: {},
    checker: 'trim',
    floatTolerance: null,
    points: '10',
    createdBy: who.user.id,
    createdAt: at,
    updatedAt: at,
  });
  return row.id;
}

/** A question in the bank, created through the API; throws on anything but 201. */
export async function createQuestion(t: TestApp, who: Tokens, payload: Record<string, unknown>) {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/v1/questions',
    headers: bearer(who),
    payload,
  });
  if (response.statusCode !== 201)
    throw new Error(`question: ${response.statusCode} ${response.body}`);
  return response.json() as {
    id: string;
    options?: Array<{ id: string; text: string; correct?: boolean }>;
  };
}

/** A quiz created (and by default published) through the API. */
export async function createQuiz(
  t: TestApp,
  who: Tokens,
  payload: Record<string, unknown>,
  options: { publish?: boolean } = {},
) {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/v1/quizzes',
    headers: bearer(who),
    payload,
  });
  if (response.statusCode !== 201) throw new Error(`quiz: ${response.statusCode} ${response.body}`);
  const quiz = response.json() as { id: string };
  if (options.publish !== false) {
    const published = await t.app.inject({
      method: 'POST',
      url: `/api/v1/quizzes/${quiz.id}/publish`,
      headers: bearer(who),
    });
    if (published.statusCode !== 200)
      throw new Error(`publish: ${published.statusCode} ${published.body}`);
  }
  return quiz;
}

export const startAttempt = (t: TestApp, who: Tokens, quizId: string) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/attempts/quizzes/${quizId}/start`,
    headers: bearer(who),
  });

export const saveAnswer = (
  t: TestApp,
  who: Tokens,
  attemptId: string,
  questionId: string,
  answer: unknown,
) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/attempts/${attemptId}/answers`,
    headers: bearer(who),
    payload: { questionId, answer },
  });

export const submitAttempt = (t: TestApp, who: Tokens, attemptId: string) =>
  t.app.inject({
    method: 'POST',
    url: `/api/v1/attempts/${attemptId}/submit`,
    headers: bearer(who),
  });
