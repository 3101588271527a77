import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, login, signedIn, type Tokens } from './support/auth.ts';
import {
  createQuestion,
  createQuiz,
  saveAnswer,
  startAttempt,
  storedChallenge,
  submitAttempt,
} from './support/quizzes.ts';

// Markers that only answer keys and explanations contain.
const EXPLANATION = 'EXPL-7c1f because reasons';
const ACCEPTED = 'Zanzibar-key-9q';
const NUMERIC_KEY = 31415.9265;
const KEY_FIELDS = new Set([
  'correct',
  'correctAnswer',
  'weight',
  'accepted',
  'tolerance',
  'explanation',
  'earned',
  'caseSensitive',
]);

/** Every key anywhere in a JSON value. */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const item of value) keysOf(item, into);
  else if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      into.add(key);
      keysOf(inner, into);
    }
  }
  return into;
}

function leaks(bodies: string[]) {
  const found: string[] = [];
  for (const body of bodies) {
    for (const marker of [EXPLANATION, ACCEPTED, String(NUMERIC_KEY)])
      if (body.includes(marker)) found.push(marker);
    for (const key of keysOf(JSON.parse(body))) if (KEY_FIELDS.has(key)) found.push(key);
  }
  return [...new Set(found)];
}

describe('results and review policy', () => {
  let t: TestApp;
  let author: Tokens;
  let ids: Record<string, string>;
  let options: Record<string, Array<{ id: string; text: string }>>;

  beforeAll(async () => {
    t = await createTestApp();
    author = await signedIn(t, 'instructor');
    const made = {
      single: await createQuestion(t, author, {
        type: 'single_choice',
        prompt: 'Capital of France?',
        explanation: EXPLANATION,
        options: [{ text: 'Paris', correct: true }, { text: 'Lyon' }],
      }),
      multiple: await createQuestion(t, author, {
        type: 'multiple_choice',
        prompt: 'Even numbers?',
        options: [{ text: '2', correct: true }, { text: '4', correct: true }, { text: '5' }],
      }),
      truth: await createQuestion(t, author, {
        type: 'true_false',
        prompt: 'Sky is blue',
        correct: true,
      }),
      short: await createQuestion(t, author, {
        type: 'short_answer',
        prompt: 'Name the island',
        accepted: [ACCEPTED],
      }),
      numeric: await createQuestion(t, author, {
        type: 'numeric',
        prompt: 'Ten thousand pi?',
        correct: NUMERIC_KEY,
        tolerance: 0.5,
      }),
      code: await createQuestion(t, author, {
        type: 'code',
        prompt: 'Print 1',
        challengeId: await storedChallenge(t, author, 'Print 1'),
      }),
    };
    ids = Object.fromEntries(Object.entries(made).map(([name, question]) => [name, question.id]));
    options = Object.fromEntries(
      Object.entries(made).map(([name, question]) => [
        name,
        (question.options ?? []).map(({ id, text }) => ({ id, text })),
      ]),
    );
  });
  afterAll(async () => {
    await t.close();
  });
  // Tests move the clock by hours; tokens last 15 minutes.
  beforeEach(async () => {
    author = await login(t, author.user.email);
  });

  const allQuestions = () => Object.values(ids).map((questionId) => ({ questionId }));

  it('never lets a student see a key, explanation or mark before review, and shows them after', async () => {
    const closesAt = new Date(t.clock.now().getTime() + 3_600_000).toISOString();
    const quiz = await createQuiz(t, author, {
      title: 'Everything',
      durationMinutes: 30,
      closesAt,
      shuffleOptions: true,
      reviewPolicy: 'after_close',
      questions: allQuestions(),
    });
    const student = await signedIn(t, 'student');
    const bodies: string[] = [];
    const as = async (response: Promise<LightMyRequestResponse>, status = 200) => {
      const done = await response;
      expect(done.statusCode, done.body).toBe(status);
      bodies.push(done.body);
      return done.json();
    };
    const headers = bearer(student);
    await as(t.app.inject({ url: '/api/v1/quizzes', headers }));
    await as(t.app.inject({ url: `/api/v1/quizzes/${quiz.id}`, headers }));
    const attempt = await as(startAttempt(t, student, quiz.id), 201);
    const wrong = options.single!.find((option) => option.text === 'Lyon')!.id;
    const answers: Record<string, unknown> = {
      [ids.single!]: wrong,
      [ids.multiple!]: [options.multiple!.find((option) => option.text === '2')!.id],
      [ids.truth!]: true,
      [ids.short!]: 'some other island',
      [ids.numeric!]: 3,
      [ids.code!]: { language: 'c', source: 'int main(void) { return 0; }' },
    };
    for (const [questionId, answer] of Object.entries(answers))
      await as(saveAnswer(t, student, attempt.id, questionId, answer));
    await as(
      t.app.inject({
        method: 'POST',
        url: `/api/v1/attempts/${attempt.id}/events`,
        headers,
        payload: { type: 'copy', at: t.clock.now().toISOString() },
      }),
      202,
    );
    await as(t.app.inject({ url: `/api/v1/attempts/${attempt.id}`, headers }));
    const submitted = await as(submitAttempt(t, student, attempt.id));
    // The code answer is in a language its challenge does not take, so it scores 0 at once
    // (judged code answers: test/attempts.code.http.test.ts).
    expect(submitted).toMatchObject({ status: 'graded', reviewAvailable: false, passed: null });
    expect(submitted.score).toBe(1.5); // true/false 1 + half of the multiple choice
    await as(t.app.inject({ url: `/api/v1/results/attempts/${attempt.id}`, headers }));
    await as(t.app.inject({ url: '/api/v1/results/my-results', headers }));
    await as(t.app.inject({ url: `/api/v1/attempts/${attempt.id}`, headers }));
    expect(leaks(bodies)).toEqual([]);

    // Once the quiz closes, the same result reveals keys and explanations: the scan can see them.
    t.clock.advance(3_600_000);
    const review = await t.app.inject({
      url: `/api/v1/results/attempts/${attempt.id}`,
      headers: bearer(await login(t, student.user.email)),
    });
    expect(review.json().reviewAvailable).toBe(true);
    expect(leaks([review.body])).toEqual(
      expect.arrayContaining([EXPLANATION, ACCEPTED, 'correctAnswer']),
    );
    const single = review
      .json()
      .questions.find((item: { questionId: string }) => item.questionId === ids.single);
    expect(single).toMatchObject({
      earned: 0,
      correct: false,
      yourAnswer: wrong,
      correctAnswer: options.single!.find((option) => option.text === 'Paris')!.id,
      explanation: EXPLANATION,
    });
  });

  it('shows marks and keys right after submit when the policy says so, and never under "never"', async () => {
    const now = await createQuiz(t, author, {
      title: 'Review at once',
      reviewPolicy: 'after_submit',
      questions: [{ questionId: ids.truth! }],
    });
    const never = await createQuiz(t, author, {
      title: 'No review',
      reviewPolicy: 'never',
      questions: [{ questionId: ids.truth! }],
    });
    const student = await signedIn(t, 'student');
    for (const [quiz, review] of [
      [now, true],
      [never, false],
    ] as const) {
      const attempt = (await startAttempt(t, student, quiz.id)).json();
      await saveAnswer(t, student, attempt.id, ids.truth!, false);
      const result = (await submitAttempt(t, student, attempt.id)).json();
      expect(result).toMatchObject({ score: 0, maxScore: 1, reviewAvailable: review });
      expect('correctAnswer' in result.questions[0]).toBe(review);
    }
    // Staff of the quiz always see everything.
    const attempts = await t.app.inject({
      url: `/api/v1/attempts?quizId=${never.id}`,
      headers: bearer(author),
    });
    const staffView = await t.app.inject({
      url: `/api/v1/results/attempts/${attempts.json().items[0].id}`,
      headers: bearer(author),
    });
    expect(staffView.json().questions[0]).toMatchObject({ correctAnswer: true, correct: false });
  });

  it('takes an untimed quiz in one request, its questions shown without keys', async () => {
    const quiz = await createQuiz(t, author, {
      title: 'One shot',
      passMark: 50,
      questions: [{ questionId: ids.single! }, { questionId: ids.numeric!, points: 3 }],
    });
    const student = await signedIn(t, 'student');
    const details = await t.app.inject({
      url: `/api/v1/quizzes/${quiz.id}`,
      headers: bearer(student),
    });
    expect(details.json().paper.map((question: { id: string }) => question.id)).toEqual([
      ids.single,
      ids.numeric,
    ]);
    expect(details.json().paper[1].points).toBe(3);
    expect(leaks([details.body])).toEqual([]);

    const submit = (answers: Record<string, unknown>, quizId = quiz.id) =>
      t.app.inject({
        method: 'POST',
        url: `/api/v1/quizzes/${quizId}/submit`,
        headers: bearer(student),
        payload: { answers },
      });
    const unknown = await submit({ 'not-in-quiz': 1 });
    expect(unknown.statusCode).toBe(400);
    const done = await submit({ [ids.numeric!]: NUMERIC_KEY + 0.3 });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ score: 3, maxScore: 4, percentage: 75, passed: true });
    expect(done.json().details).toHaveLength(2);
    const again = await submit({ [ids.numeric!]: NUMERIC_KEY });
    expect(again.json().code).toBe('ATTEMPTS_EXHAUSTED');

    const timed = await createQuiz(t, author, {
      title: 'Timed',
      durationMinutes: 5,
      questions: [{ questionId: ids.single! }],
    });
    const refused = await submit({}, timed.id);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('QUIZ_NEEDS_ATTEMPT');
  });
});
