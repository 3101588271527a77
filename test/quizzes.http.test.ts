import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, login, signedIn, type Tokens } from './support/auth.ts';
import { expectInvalidAt } from './support/problems.ts';

describe('quizzes', () => {
  let t: TestApp;
  let author: Tokens;
  let otherInstructor: Tokens;
  let admin: Tokens;
  let student: Tokens;
  const questionIds: string[] = [];

  beforeAll(async () => {
    t = await createTestApp();
    author = await signedIn(t, 'instructor');
    otherInstructor = await signedIn(t, 'instructor');
    admin = await signedIn(t, 'admin');
    student = await signedIn(t, 'student');
    for (let index = 0; index < 4; index++) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/questions',
        headers: bearer(author),
        payload: {
          type: 'true_false',
          prompt: `Statement ${index}`,
          correct: index % 2 === 0,
          tags: ['logic'],
          level: 'beginner',
        },
      });
      questionIds.push(response.json().id);
    }
  });
  afterAll(async () => {
    await t.close();
  });

  const create = (payload: Record<string, unknown>, who: Tokens = author) =>
    t.app.inject({ method: 'POST', url: '/api/v1/quizzes', headers: bearer(who), payload });

  it('creates a draft with fixed questions or a pool, fractions of minutes allowed', async () => {
    const fixed = await create({
      title: 'Logic 101',
      durationMinutes: 0.5,
      maxAttempts: 2,
      shuffleQuestions: true,
      passMark: 60,
      negativeMarking: 0.25,
      reviewPolicy: 'after_close',
      questions: questionIds.map((questionId) => ({ questionId })),
    });
    expect(fixed.statusCode).toBe(201);
    expect(fixed.json()).toMatchObject({
      status: 'draft',
      durationMinutes: 0.5,
      maxAttempts: 2,
      shuffleQuestions: true,
      passMark: 60,
      negativeMarking: 0.25,
      reviewPolicy: 'after_close',
      questionCount: 4,
      createdBy: author.user.id,
    });
    const pooled = await create({
      title: 'Random logic',
      pool: { tags: ['logic'], level: 'beginner', count: 3 },
    });
    expect(pooled.statusCode).toBe(201);
    expect(pooled.json()).toMatchObject({
      pool: { count: 3 },
      questionCount: 3,
      durationMinutes: null,
    });
  });

  it('refuses quizzes that do not hold together', async () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [
        'unknown question',
        { title: 'x', questions: [{ questionId: 'nope' }] },
        'body.questions[0].questionId',
      ],
      [
        'question twice',
        { title: 'x', questions: [{ questionId: questionIds[0] }, { questionId: questionIds[0] }] },
        'body.questions[1].questionId',
      ],
      [
        'both sources',
        { title: 'x', questions: [{ questionId: questionIds[0] }], pool: { count: 1 } },
        'body',
      ],
      ['no source', { title: 'x' }, 'body'],
      ['pool too big', { title: 'x', pool: { tags: ['logic'], count: 50 } }, 'body.pool.count'],
      [
        'closes before it opens',
        {
          title: 'x',
          pool: { count: 1 },
          opensAt: '2026-02-01T10:00:00Z',
          closesAt: '2026-02-01T09:00:00Z',
        },
        'body.closesAt',
      ],
      [
        'zero duration',
        { title: 'x', pool: { count: 1 }, durationMinutes: 0 },
        'body.durationMinutes',
      ],
      ['unknown field', { title: 'x', pool: { count: 1 }, owner: 'me' }, 'body'],
    ];
    for (const [what, payload, path] of cases) expectInvalidAt(await create(payload), path, what);
  });

  it('shows students only published quizzes whose window is open, without the question list', async () => {
    const quiz = (
      await create({ title: 'Visible soon', questions: [{ questionId: questionIds[0] }] })
    ).json();
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/quizzes/${quiz.id}`,
          headers: bearer(student),
        })
      ).statusCode,
    ).toBe(404);
    const published = await t.app.inject({
      method: 'POST',
      url: `/api/v1/quizzes/${quiz.id}/publish`,
      headers: bearer(author),
    });
    expect(published.json()).toMatchObject({
      status: 'published',
      publishedAt: expect.any(String),
    });
    const seen = await t.app.inject({
      method: 'GET',
      url: `/api/v1/quizzes/${quiz.id}`,
      headers: bearer(student),
    });
    expect(seen.statusCode).toBe(200);
    expect(seen.json().questions).toBeUndefined();
    expect(seen.json().questionCount).toBe(1);
    const listed = (
      await t.app.inject({ method: 'GET', url: '/api/v1/quizzes', headers: bearer(student) })
    ).json();
    expect(listed.items.map((item: { id: string }) => item.id)).toContain(quiz.id);
    expect(listed.items.every((item: { status: string }) => item.status === 'published')).toBe(
      true,
    );

    const later = (
      await create({
        title: 'Opens later',
        pool: { count: 1 },
        opensAt: new Date(t.clock.now().getTime() + 3600_000).toISOString(),
      })
    ).json();
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/quizzes/${later.id}/publish`,
      headers: bearer(author),
    });
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/quizzes/${later.id}`,
          headers: bearer(student),
        })
      ).statusCode,
    ).toBe(404);
    t.clock.advance(3600_000);
    // An hour on, the earlier access tokens have expired: sign everyone in again.
    author = await login(t, author.user.email);
    otherInstructor = await login(t, otherInstructor.user.email);
    admin = await login(t, admin.user.email);
    student = await login(t, student.user.email);
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/quizzes/${later.id}`,
          headers: bearer(student),
        })
      ).statusCode,
    ).toBe(200);
  });

  it('lets only the author or an admin edit, publish or delete', async () => {
    const quiz = (await create({ title: 'Mine', pool: { count: 1 } })).json();
    const foreign = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/quizzes/${quiz.id}`,
      headers: bearer(otherInstructor),
      payload: { title: 'Theirs' },
    });
    expect(foreign.statusCode).toBe(403);
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/quizzes',
          headers: bearer(otherInstructor),
        })
      ).json().items,
    ).toEqual([]);
    const edited = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/quizzes/${quiz.id}`,
      headers: bearer(admin),
      payload: { title: 'Renamed', questions: [{ questionId: questionIds[1], points: 3 }] },
    });
    expect(edited.statusCode).toBe(200);
    expect(edited.json()).toMatchObject({
      title: 'Renamed',
      questions: [{ questionId: questionIds[1], points: 3 }],
      questionCount: 1,
    });
    expect(edited.json().pool).toBeUndefined();
    expect(
      (
        await t.app.inject({
          method: 'DELETE',
          url: `/api/v1/quizzes/${quiz.id}`,
          headers: bearer(otherInstructor),
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await t.app.inject({
          method: 'DELETE',
          url: `/api/v1/quizzes/${quiz.id}`,
          headers: bearer(author),
        })
      ).statusCode,
    ).toBe(204);
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/quizzes/${quiz.id}`,
          headers: bearer(admin),
        })
      ).statusCode,
    ).toBe(404);
    const audit = (await t.deps.audit.list({ action: 'quizzes.deleted', limit: 5 })).items;
    expect(audit[0]?.targetId).toBe(quiz.id);
  });

  it('archives a quiz: students no longer see it, and it cannot change or be published again', async () => {
    const quiz = (await create({ title: 'Old exam', pool: { count: 1 } })).json();
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/quizzes/${quiz.id}/publish`,
      headers: bearer(author),
    });
    const archived = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/quizzes/${quiz.id}`,
      headers: bearer(author),
      payload: { status: 'archived' },
    });
    expect(archived.json().status).toBe('archived');
    expect(
      (
        await t.app.inject({
          method: 'GET',
          url: `/api/v1/quizzes/${quiz.id}`,
          headers: bearer(student),
        })
      ).statusCode,
    ).toBe(404);
    const edit = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/quizzes/${quiz.id}`,
      headers: bearer(author),
      payload: { title: 'New' },
    });
    expect(edit.statusCode).toBe(409);
    expect(edit.json().code).toBe('QUIZ_ARCHIVED');
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: `/api/v1/quizzes/${quiz.id}/publish`,
          headers: bearer(author),
        })
      ).statusCode,
    ).toBe(409);
    const bad = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/quizzes/${quiz.id}`,
      headers: bearer(author),
      payload: { status: 'published' },
    });
    expect(bad.statusCode).toBe(400);
  });
});
