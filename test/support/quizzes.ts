import type { TestApp } from './app.ts';
import { bearer, type Tokens } from './auth.ts';

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
