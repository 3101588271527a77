import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn, type Tokens } from './support/auth.ts';
import { createQuestion, createQuiz, startAttempt, submitAttempt } from './support/quizzes.ts';

describe('anti-cheat telemetry and attendance', () => {
  let t: TestApp;
  let author: Tokens;
  let questionId: string;

  beforeAll(async () => {
    t = await createTestApp();
    author = await signedIn(t, 'instructor');
    questionId = (
      await createQuestion(t, author, { type: 'true_false', prompt: 'Yes?', correct: true })
    ).id;
  });
  afterAll(async () => {
    await t.close();
  });

  const event = (who: Tokens, attemptId: string, type: string, detail?: Record<string, unknown>) =>
    t.app.inject({
      method: 'POST',
      url: `/api/v1/attempts/${attemptId}/events`,
      headers: bearer(who),
      payload: { type, at: t.clock.now().toISOString(), ...(detail ? { detail } : {}) },
    });

  it('counts events by type, shows them to staff, and flags past maxFocusLosses', async () => {
    const quiz = await createQuiz(t, author, {
      title: 'Proctored',
      durationMinutes: 10,
      maxFocusLosses: 2,
      questions: [{ questionId }],
    });
    const student = await signedIn(t, 'student');
    const attempt = (await startAttempt(t, student, quiz.id)).json();
    const outcomes = [];
    for (const type of ['tab_hidden', 'copy', 'window_blur', 'tab_hidden'])
      outcomes.push((await event(student, attempt.id, type, { note: 'x' })).json());
    expect(outcomes.map((outcome) => outcome.flagged)).toEqual([false, false, false, true]);
    expect(outcomes.at(-1)).toMatchObject({ status: 'active', focusLosses: 3 });
    expect((await event(student, attempt.id, 'Not Valid')).statusCode).toBe(400);
    // Names the platform does not know are kept as sent but counted together.
    expect((await event(student, attempt.id, 'made_up_kind')).statusCode).toBe(202);

    const staff = await t.app.inject({
      url: `/api/v1/attempts/${attempt.id}`,
      headers: bearer(author),
    });
    expect(staff.json().integrity).toMatchObject({
      focusLosses: 3,
      eventCounts: { tab_hidden: 2, copy: 1, window_blur: 1, other: 1 },
      flagged: true,
      flaggedReason: expect.stringContaining('limit 2'),
    });
    expect(staff.json().integrity.recentEvents).toHaveLength(5);
    expect(
      staff.json().integrity.recentEvents.map((item: { type: string }) => item.type),
    ).toContain('made_up_kind');
    // The student does not get the integrity record.
    const own = await t.app.inject({
      url: `/api/v1/attempts/${attempt.id}`,
      headers: bearer(student),
    });
    expect(own.json().integrity).toBeUndefined();
    // Nor may another instructor look.
    const stranger = await signedIn(t, 'instructor');
    expect(
      (await t.app.inject({ url: `/api/v1/attempts/${attempt.id}`, headers: bearer(stranger) }))
        .statusCode,
    ).toBe(404);
  });

  it('submits the attempt past the limit when the quiz says so', async () => {
    const quiz = await createQuiz(t, author, {
      title: 'Strict',
      durationMinutes: 10,
      maxFocusLosses: 0,
      focusLossAction: 'submit',
      questions: [{ questionId }],
    });
    const student = await signedIn(t, 'student');
    const attempt = (await startAttempt(t, student, quiz.id)).json();
    expect((await event(student, attempt.id, 'paste')).json().status).toBe('active');
    const out = (await event(student, attempt.id, 'tab_hidden')).json();
    expect(out).toMatchObject({ status: 'graded', flagged: true });
    const after = await event(student, attempt.id, 'tab_hidden');
    expect(after.statusCode).toBe(409);
    expect(after.json().code).toBe('ATTEMPT_SUBMITTED');
    const result = (await submitAttempt(t, student, attempt.id)).json();
    expect(result.endedBy).toBe('focus_limit');
  });

  it('records presence when an attempt starts, once, and lets staff keep the register', async () => {
    const quiz = await createQuiz(t, author, {
      title: 'Register',
      maxAttempts: 3,
      questions: [{ questionId }],
    });
    const student = await signedIn(t, 'student');
    for (let index = 0; index < 2; index++) {
      const attempt = (await startAttempt(t, student, quiz.id)).json();
      await submitAttempt(t, student, attempt.id);
    }
    const list = (query: string, who: Tokens = author) =>
      t.app.inject({ url: `/api/v1/attendance?${query}`, headers: bearer(who) });
    const automatic = (await list(`quizId=${quiz.id}`)).json().items;
    expect(automatic).toHaveLength(1);
    expect(automatic[0]).toMatchObject({
      userId: student.user.id,
      status: 'present',
      source: 'attempt',
    });

    const absentee = await signedIn(t, 'student');
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/attendance',
      headers: bearer(author),
      payload: { quizId: quiz.id, userId: absentee.user.id, status: 'absent', note: 'ill' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ source: 'manual', recordedBy: author.user.id });
    const id = created.json().id;
    const corrected = await t.app.inject({
      method: 'PUT',
      url: `/api/v1/attendance/${id}`,
      headers: bearer(author),
      payload: { status: 'excused', timestamp: t.clock.now().toISOString(), note: 'doctor’s note' },
    });
    expect(corrected.json()).toMatchObject({ status: 'excused', note: 'doctor’s note' });
    expect(
      (await list(`userId=${absentee.user.id}`))
        .json()
        .items.map((item: { id: string }) => item.id),
    ).toEqual([id]);
    expect((await list(`quizId=${quiz.id}&status=excused`)).json().items).toHaveLength(1);

    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/attendance',
      headers: bearer(author),
      payload: { quizId: 'nope', userId: 'nobody', status: 'present' },
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .errors.map((error: { path: string }) => error.path)
        .sort(),
    ).toEqual(['body.quizId', 'body.userId']);

    // Another instructor sees none of it; a student may not look at all.
    const stranger = await signedIn(t, 'instructor');
    expect((await list(`quizId=${quiz.id}`, stranger)).json().items).toEqual([]);
    expect(
      (await t.app.inject({ url: `/api/v1/attendance/${id}`, headers: bearer(stranger) }))
        .statusCode,
    ).toBe(404);
    expect((await list('', student)).statusCode).toBe(403);

    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/attendance/${id}`,
      headers: bearer(author),
    });
    expect(removed.statusCode).toBe(204);
    expect(
      (await t.app.inject({ url: `/api/v1/attendance/${id}`, headers: bearer(author) })).statusCode,
    ).toBe(404);
  });
});
