import { expect } from 'vitest';
import type { TestApp } from './app.ts';
import { login, STRONG_PASSWORD, type Tokens } from './auth.ts';
import { createQuestion, saveAnswer, startAttempt, submitAttempt } from './quizzes.ts';

let counter = 0;

/** A signed-in student with a display name of their own (boards must show it, never the email). */
export async function namedStudent(t: TestApp, name: string): Promise<Tokens> {
  counter += 1;
  const email = `board-${process.pid}-${counter}-${Date.now()}@example.com`;
  await t.deps.users.createActive({ email, name, role: 'student', password: STRONG_PASSWORD });
  return login(t, email);
}

/** `count` true/false questions whose answer is `true`, worth a point each. */
export async function trueStatements(t: TestApp, author: Tokens, count: number) {
  const ids: string[] = [];
  for (let index = 0; index < count; index++)
    ids.push(
      (
        await createQuestion(t, author, {
          type: 'true_false',
          prompt: `Statement ${index} is true`,
          correct: true,
        })
      ).id,
    );
  return ids;
}

/**
 * Takes a quiz of `trueStatements`: answers the first `right` correctly, lets `seconds` pass on
 * the app's clock, submits. Returns the wall-clock time the result landed.
 */
export async function takeQuiz(
  t: TestApp,
  who: Tokens,
  quiz: { id: string; questionIds: readonly string[] },
  right: number,
  seconds: number,
) {
  const started = await startAttempt(t, who, quiz.id);
  expect(started.statusCode, started.body).toBeLessThan(300);
  const attempt = started.json() as { id: string };
  for (const [index, questionId] of quiz.questionIds.entries())
    await saveAnswer(t, who, attempt.id, questionId, index < right);
  t.clock.advance(seconds * 1000);
  const submitted = await submitAttempt(t, who, attempt.id);
  expect(submitted.statusCode, submitted.body).toBe(200);
  return Date.now();
}
