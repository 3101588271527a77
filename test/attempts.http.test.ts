import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorkerRole } from '../src/worker.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, login, signedIn, type Tokens } from './support/auth.ts';
import { databaseKinds } from './support/databases.ts';
import {
  createQuestion,
  createQuiz,
  saveAnswer,
  startAttempt,
  submitAttempt,
} from './support/quizzes.ts';

describe.each(databaseKinds())('attempts on %s', (kind) => {
  let t: TestApp;
  let author: Tokens;
  let questionIds: string[];
  let choice: { id: string; options?: Array<{ id: string; text: string; correct?: boolean }> };

  beforeAll(async () => {
    t = await createTestApp({ database: kind });
    author = await signedIn(t, 'instructor');
    choice = await createQuestion(t, author, {
      type: 'single_choice',
      prompt: 'Pick the prime',
      options: [
        { text: '4' },
        { text: '6' },
        { text: '7', correct: true },
        { text: '8' },
        { text: '9' },
        { text: '10' },
      ],
    });
    const rest = [];
    for (let index = 0; index < 7; index++) {
      rest.push(
        await createQuestion(t, author, {
          type: 'numeric',
          prompt: `What is ${index} + ${index}?`,
          correct: index * 2,
        }),
      );
    }
    questionIds = [choice.id, ...rest.map((question) => question.id)];
  });
  afterAll(async () => {
    await t.close();
  });

  const quizWith = (settings: Record<string, unknown>) =>
    createQuiz(t, author, {
      title: 'Arithmetic',
      questions: questionIds.map((questionId) => ({ questionId })),
      ...settings,
    });

  it('gives each attempt its own stored order, and the same attempt on a second start', async () => {
    const quiz = await quizWith({ shuffleQuestions: true, shuffleOptions: true, maxAttempts: 5 });
    const orders = new Set<string>();
    for (let index = 0; index < 4; index++) {
      const student = await signedIn(t, 'student');
      const first = await startAttempt(t, student, quiz.id);
      expect(first.statusCode).toBe(201);
      const attempt = first.json();
      expect(attempt).toMatchObject({ status: 'active', number: 1, expiresAt: null });
      expect(attempt.questions).toHaveLength(8);
      const order = attempt.questions.map((question: { id: string }) => question.id).join();
      const optionOrder = attempt.questions
        .find((question: { id: string }) => question.id === choice.id)
        .options.map((option: { text: string }) => option.text)
        .join();
      orders.add(`${order}|${optionOrder}`);
      // No keys: options carry id and text only.
      for (const question of attempt.questions)
        for (const option of question.options ?? [])
          expect(Object.keys(option).sort()).toEqual(['id', 'text']);

      const again = await startAttempt(t, student, quiz.id);
      expect(again.statusCode).toBe(200);
      expect(again.json().id).toBe(attempt.id);
      const read = await t.app.inject({
        url: `/api/v1/attempts/${attempt.id}`,
        headers: bearer(student),
      });
      expect(read.json().questions).toEqual(attempt.questions);
    }
    // 8! × 6! orders: four equal ones would mean the shuffle is not random.
    expect(orders.size).toBeGreaterThan(1);
  });

  it('starts one attempt for 20 parallel starts, and enforces maxAttempts and the window', async () => {
    const quiz = await quizWith({ maxAttempts: 2 });
    const student = await signedIn(t, 'student');
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => startAttempt(t, student, quiz.id)),
    );
    const ids = new Set(responses.map((response) => response.json().id));
    expect(ids.size).toBe(1);
    expect(responses.filter((response) => response.statusCode === 201)).toHaveLength(1);
    expect(responses.every((response) => [200, 201].includes(response.statusCode))).toBe(true);
    const listed = await t.app.inject({
      url: `/api/v1/attempts?quizId=${quiz.id}`,
      headers: bearer(author),
    });
    expect(
      listed.json().items.filter((item: { userId: string }) => item.userId === student.user.id),
    ).toHaveLength(1);

    const [id] = ids;
    await submitAttempt(t, student, id!);
    const second = await startAttempt(t, student, quiz.id);
    expect(second.statusCode).toBe(201);
    expect(second.json().number).toBe(2);
    await submitAttempt(t, student, second.json().id);
    const third = await startAttempt(t, student, quiz.id);
    expect(third.statusCode).toBe(409);
    expect(third.json().code).toBe('ATTEMPTS_EXHAUSTED');

    const later = await quizWith({
      opensAt: new Date(t.clock.now().getTime() + 3_600_000).toISOString(),
    });
    const early = await startAttempt(t, student, later.id);
    expect(early.statusCode).toBe(403);
    expect(early.json().code).toBe('QUIZ_NOT_OPEN');
    const draft = await createQuiz(
      t,
      author,
      { title: 'Draft', questions: [{ questionId: choice.id }] },
      { publish: false },
    );
    expect((await startAttempt(t, student, draft.id)).statusCode).toBe(404);
  });

  it('saves answers last-write-wins, refuses foreign questions and bad shapes, and 409s after submit', async () => {
    const quiz = await quizWith({});
    const student = await signedIn(t, 'student');
    const attempt = (await startAttempt(t, student, quiz.id)).json();
    const seven = choice.options!.find((option) => option.text === '7')!.id;
    const four = choice.options!.find((option) => option.text === '4')!.id;
    expect((await saveAnswer(t, student, attempt.id, choice.id, four)).statusCode).toBe(200);
    expect((await saveAnswer(t, student, attempt.id, choice.id, seven)).statusCode).toBe(200);
    const read = await t.app.inject({
      url: `/api/v1/attempts/${attempt.id}`,
      headers: bearer(student),
    });
    expect(read.json().answers).toEqual({ [choice.id]: seven });

    const foreign = await saveAnswer(t, student, attempt.id, 'not-a-question', 1);
    expect(foreign.statusCode).toBe(422);
    expect(foreign.json().code).toBe('QUESTION_NOT_IN_ATTEMPT');
    const badShape = await saveAnswer(t, student, attempt.id, choice.id, 'no-such-option');
    expect(badShape.statusCode).toBe(400);
    const other = await signedIn(t, 'student');
    expect((await saveAnswer(t, other, attempt.id, choice.id, seven)).statusCode).toBe(404);
    expect(
      (await t.app.inject({ url: `/api/v1/attempts/${attempt.id}`, headers: bearer(other) }))
        .statusCode,
    ).toBe(404);

    const result = await submitAttempt(t, student, attempt.id);
    expect(result.statusCode).toBe(200);
    expect(result.json()).toMatchObject({
      status: 'graded',
      score: 1,
      maxScore: 8,
      endedBy: 'student',
    });
    const late = await saveAnswer(t, student, attempt.id, choice.id, four);
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('ATTEMPT_SUBMITTED');
  });

  it('scores once for 20 parallel submits, all answered alike, and announces the result once', async () => {
    const quiz = await quizWith({});
    const student = await signedIn(t, 'student');
    const landed: unknown[] = [];
    let markerSeen = false;
    const unsubscribe = await t.deps.events.subscribe('attempts.graded', (result) => {
      if (result.quizId === quiz.id) landed.push(result);
      if (result.attemptId === `marker-${quiz.id}`) markerSeen = true;
    });
    const attempt = (await startAttempt(t, student, quiz.id)).json();
    const numeric = attempt.questions.filter(
      (question: { type: string }) => question.type === 'numeric',
    );
    for (const question of numeric.slice(0, 3)) {
      const sum = Number(question.prompt.match(/What is (\d+)/)[1]) * 2;
      await saveAnswer(t, student, attempt.id, question.id, sum);
    }
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => submitAttempt(t, student, attempt.id)),
    );
    expect(new Set(responses.map((response) => response.statusCode))).toEqual(new Set([200]));
    expect(new Set(responses.map((response) => response.body)).size).toBe(1);
    expect(responses[0]!.json()).toMatchObject({ score: 3, maxScore: 8, percentage: 37.5 });
    const results = await t.app.inject({
      url: '/api/v1/results/my-results',
      headers: bearer(student),
    });
    expect(results.json().items).toHaveLength(1);
    // Every submit has answered, so every result event has been published; events arrive in
    // the order published, so once a marker published now arrives, a second one would have too.
    await t.deps.events.publish('attempts.graded', {
      attemptId: `marker-${quiz.id}`,
      quizId: 'marker',
      userId: 'marker',
      status: 'graded',
      score: 0,
      maxScore: 0,
    });
    await expect.poll(() => markerSeen).toBe(true);
    await unsubscribe();
    expect(landed).toEqual([
      {
        attemptId: attempt.id,
        quizId: quiz.id,
        userId: student.user.id,
        status: 'graded',
        score: 3,
        maxScore: 8,
      },
    ]);
  });

  it('enforces the timer with a grace, and closes abandoned attempts from the periodic job', async () => {
    const quiz = await quizWith({ durationMinutes: 0.5 });
    let student = await signedIn(t, 'student');
    const attempt = (await startAttempt(t, student, quiz.id)).json();
    expect(attempt.remainingSeconds).toBe(30);
    expect(new Date(attempt.expiresAt).getTime() - new Date(attempt.startedAt).getTime()).toBe(
      30_000,
    );
    const [first] = attempt.questions;
    t.clock.advance(33_000); // past the end, within the 5 s grace: still saved
    expect(
      (await saveAnswer(t, student, attempt.id, first.id, first.type === 'numeric' ? 0 : null))
        .statusCode,
    ).toBe(200);
    t.clock.advance(3_000);
    const late = await saveAnswer(t, student, attempt.id, first.id, null);
    expect(late.statusCode).toBe(409);
    expect(late.json().code).toBe('ATTEMPT_EXPIRED');
    const read = await t.app.inject({
      url: `/api/v1/attempts/${attempt.id}`,
      headers: bearer(student),
    });
    expect(read.json()).toMatchObject({ status: 'expired', endedBy: 'timer', remainingSeconds: 0 });

    // A student who never comes back: the scheduled job submits the attempt.
    student = await login(t, student.user.email);
    const abandoned = (await startAttempt(t, await signedIn(t, 'student'), quiz.id)).json();
    t.clock.advance(40_000);
    const role = await startWorkerRole(t.deps);
    try {
      const scheduler = role.scheduler as typeof role.scheduler & {
        fireDue(at: Date): Promise<void>;
      };
      await scheduler.fireDue(t.clock.now());
      await expect
        .poll(
          async () =>
            (
              await t.app.inject({
                url: `/api/v1/attempts?quizId=${quiz.id}`,
                headers: bearer(await login(t, author.user.email)),
              })
            )
              .json()
              .items.find((item: { id: string }) => item.id === abandoned.id)?.status,
          { timeout: 10_000 },
        )
        .toBe('expired');
    } finally {
      await role.close(5_000);
    }
  });

  it('caps the attempt at the quiz’s closing time', async () => {
    const closesAt = new Date(t.clock.now().getTime() + 10_000);
    const quiz = await quizWith({ durationMinutes: 60, closesAt: closesAt.toISOString() });
    const student = await signedIn(t, 'student');
    const attempt = (await startAttempt(t, student, quiz.id)).json();
    expect(attempt.expiresAt).toBe(closesAt.toISOString());
    expect(attempt.remainingSeconds).toBe(10);
  });

  it('freezes the quiz’s questions once someone has started it', async () => {
    const quiz = await quizWith({});
    const patch = (payload: Record<string, unknown>) =>
      t.app.inject({
        method: 'PATCH',
        url: `/api/v1/quizzes/${quiz.id}`,
        headers: bearer(author),
        payload,
      });
    expect((await patch({ questions: [{ questionId: choice.id }] })).statusCode).toBe(200);
    await startAttempt(t, await signedIn(t, 'student'), quiz.id);
    const frozen = await patch({ questions: questionIds.map((questionId) => ({ questionId })) });
    expect(frozen.statusCode).toBe(409);
    expect(frozen.json().code).toBe('QUIZ_HAS_ATTEMPTS');
    expect((await patch({ title: 'Renamed' })).statusCode).toBe(200);
  });

  it('counts a submit after the time ran out as the timer’s, and a repeat submit changes nothing', async () => {
    const quiz = await quizWith({ durationMinutes: 0.5 });
    const student = await signedIn(t, 'student');
    const attempt = (await startAttempt(t, student, quiz.id)).json();
    t.clock.advance(60_000);
    const late = (await submitAttempt(t, student, attempt.id)).json();
    expect(late).toMatchObject({ status: 'expired', endedBy: 'timer' });
    t.clock.advance(5_000);
    const again = (await submitAttempt(t, student, attempt.id)).json();
    expect(again.submittedAt).toBe(late.submittedAt);
    expect(again).toEqual(late);
  });

  it('counts every acknowledged save when saves and a submit race', async () => {
    const quiz = await quizWith({});
    const student = await signedIn(t, 'student');
    const attempt = (await startAttempt(t, student, quiz.id)).json();
    const numeric = attempt.questions.filter(
      (question: { type: string }) => question.type === 'numeric',
    );
    const saves = numeric.map((question: { id: string; prompt: string }) =>
      saveAnswer(
        t,
        student,
        attempt.id,
        question.id,
        Number(question.prompt.match(/What is (\d+)/)?.[1]) * 2,
      ),
    );
    const [result, ...saved] = await Promise.all([submitAttempt(t, student, attempt.id), ...saves]);
    const acknowledged = saved
      .filter((response) => response.statusCode === 200)
      .map((response) => response.json().questionId);
    for (const response of saved) expect([200, 409]).toContain(response.statusCode);
    const earned = result
      .json()
      .questions.filter((item: { earned?: number }) => item.earned === 1)
      .map((item: { questionId: string }) => item.questionId);
    expect(earned.sort()).toEqual(acknowledged.sort());
  });

  it('allows exactly the attempts left when 20 starts race at the limit', async () => {
    const quiz = await quizWith({ maxAttempts: 2 });
    const student = await signedIn(t, 'student');
    const first = (await startAttempt(t, student, quiz.id)).json();
    await submitAttempt(t, student, first.id);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => startAttempt(t, student, quiz.id)),
    );
    expect(responses.filter((response) => response.statusCode === 201)).toHaveLength(1);
    expect(new Set(responses.map((response) => response.json().id)).size).toBe(1);
    await submitAttempt(t, student, responses[0]!.json().id);
    expect((await startAttempt(t, student, quiz.id)).json().code).toBe('ATTEMPTS_EXHAUSTED');
  });

  it('refuses to change a question that attempts show', async () => {
    const question = await createQuestion(t, author, {
      type: 'true_false',
      prompt: 'Frozen?',
      correct: true,
    });
    const replace = () =>
      t.app.inject({
        method: 'PUT',
        url: `/api/v1/questions/${question.id}`,
        headers: bearer(author),
        payload: { type: 'true_false', prompt: 'Frozen?', correct: false },
      });
    expect((await replace()).statusCode).toBe(200);
    const quiz = await createQuiz(t, author, {
      title: 'Freeze',
      questions: [{ questionId: question.id }],
    });
    await startAttempt(t, await signedIn(t, 'student'), quiz.id);
    const refused = await replace();
    expect(refused.statusCode).toBe(409);
    expect(refused.json().code).toBe('QUESTION_IN_USE');
  });

  // Option ids are random hex: about one in forty is all digits and must stay a string.
  it('keeps answers that look like JSON ("42", "true", "null") as the text the student typed', async () => {
    const texts = ['42', 'true', 'null', '86302976', '[1]'];
    const questions = [];
    for (const text of texts)
      questions.push(
        await createQuestion(t, author, {
          type: 'short_answer',
          prompt: `Type ${text}`,
          accepted: [text],
        }),
      );
    const quiz = await createQuiz(t, author, {
      title: 'Literal answers',
      questions: questions.map((question) => ({ questionId: question.id })),
    });
    const student = await signedIn(t, 'student');
    const attempt = (await startAttempt(t, student, quiz.id)).json();
    for (const [index, question] of questions.entries())
      expect((await saveAnswer(t, student, attempt.id, question.id, texts[index])).statusCode).toBe(
        200,
      );
    const resumed = await t.app.inject({
      method: 'GET',
      url: `/api/v1/attempts/${attempt.id}`,
      headers: bearer(student),
    });
    expect(resumed.json().answers).toEqual(
      Object.fromEntries(questions.map((question, index) => [question.id, texts[index]])),
    );
    const result = await submitAttempt(t, student, attempt.id);
    expect(result.json()).toMatchObject({ score: texts.length, maxScore: texts.length });
  });
});
