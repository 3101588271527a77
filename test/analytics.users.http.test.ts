import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, login, signedIn, type Tokens } from './support/auth.ts';
import { databaseKinds } from './support/databases.ts';
import { expectInvalidAt } from './support/problems.ts';
import {
  createQuestion,
  createQuiz,
  saveAnswer,
  startAttempt,
  submitAttempt,
} from './support/quizzes.ts';

const HOUR = 3_600_000;

/**
 * A student's activity at chosen instants (the test clock starts 2026-01-01T00:00Z):
 *   2026-01-01 23:30Z  (Paris: 01-02 00:30)  quiz A, 0 of 2
 *   2026-01-02 12:00Z  (Paris: 01-02 13:00)  quiz A, 1 of 2
 *   2026-01-03 23:30Z  (Paris: 01-04 00:30)  quiz A, 2 of 2
 *   2026-01-03 23:40Z  (Paris: 01-04 00:40)  quiz B (review never), 1 of 1
 * and "now" is 2026-01-04 10:00Z. In UTC the active days are 01-01, 01-02, 01-03: a streak of
 * 3 that today has not broken yet. In Paris they are 01-02 and 01-04: a streak of 1.
 */
describe.each(databaseKinds())('user analytics and the platform overview on %s', (kind) => {
  let t: TestApp;
  let author: Tokens;
  let admin: Tokens;
  let student: Tokens;
  let classmate: Tokens;
  const emails: Record<string, string> = {};
  let quizA: string;
  let quizB: string;

  /** Tokens expire while the clock moves on: sign in again at the current time. */
  const fresh = async (name: string) => login(t, emails[name] as string);
  const get = (who: Tokens, url: string) =>
    t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers: bearer(who) });

  const takeAt = async (at: string, quizId: string, answers: Array<[string, unknown]>) => {
    t.clock.advance(Date.parse(at) - t.clock.now().getTime());
    student = await fresh('student');
    const started = await startAttempt(t, student, quizId);
    expect(started.statusCode, started.body).toBe(201);
    const id = started.json().id as string;
    for (const [questionId, answer] of answers)
      expect((await saveAnswer(t, student, id, questionId, answer)).statusCode).toBe(200);
    t.clock.advance(60_000);
    expect((await submitAttempt(t, student, id)).statusCode).toBe(200);
  };

  beforeAll(async () => {
    t = await createTestApp({ database: kind });
    for (const role of ['instructor', 'admin', 'student', 'classmate'] as const) {
      emails[role] = `${role}-${kind}@example.com`;
      await signedIn(t, role === 'classmate' ? 'student' : role, emails[role]);
    }
    author = await fresh('instructor');
    const algebra = await createQuestion(t, author, {
      type: 'true_false',
      prompt: '1 + 1 = 2',
      correct: true,
      tags: ['algebra'],
    });
    const both = await createQuestion(t, author, {
      type: 'numeric',
      prompt: 'Area of a 2 × 3 rectangle',
      correct: 6,
      tolerance: 0,
      tags: ['algebra', 'geometry'],
    });
    const secret = await createQuestion(t, author, {
      type: 'true_false',
      prompt: 'Hidden until never',
      correct: false,
      tags: ['secret'],
    });
    quizA = (
      await createQuiz(t, author, {
        title: 'Quiz A',
        maxAttempts: 3,
        questions: [{ questionId: algebra.id }, { questionId: both.id }],
      })
    ).id;
    quizB = (
      await createQuiz(t, author, {
        title: 'Quiz B',
        reviewPolicy: 'never',
        questions: [{ questionId: secret.id }],
      })
    ).id;
    await takeAt('2026-01-01T23:30:00Z', quizA, [
      [algebra.id, false],
      [both.id, 5],
    ]);
    await takeAt('2026-01-02T12:00:00Z', quizA, [
      [algebra.id, true],
      [both.id, 5],
    ]);
    await takeAt('2026-01-03T23:30:00Z', quizA, [
      [algebra.id, true],
      [both.id, 6],
    ]);
    await takeAt('2026-01-03T23:40:00Z', quizB, [[secret.id, false]]);
    t.clock.advance(Date.parse('2026-01-04T10:00:00Z') - t.clock.now().getTime());
    student = await fresh('student');
    classmate = await fresh('classmate');
    author = await fresh('instructor');
    admin = await fresh('admin');
  });
  afterAll(async () => {
    await t.close();
  });

  it('gives a student their quizzes, average score and a streak in UTC', async () => {
    const response = await get(student, '/analytics/me');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.user).toMatchObject({ name: 'student user', role: 'student' });
    expect(body.user.email).toBeUndefined();
    expect(body.timeZone).toBe('UTC');
    expect(body.quizzesTaken).toBe(2);
    expect(body.attempts).toBe(4);
    // 0 %, 50 %, 100 % and 100 %.
    expect(body.averageScore).toBeCloseTo(62.5, 10);
    expect(body).toMatchObject({
      streak: 3,
      longestStreak: 3,
      lastActiveDay: '2026-01-03',
      activeDays: 3,
    });
  });

  it('counts the streak by the days of the time zone asked for, canonicalising its name', async () => {
    const body = (await get(student, '/analytics/me?tz=europe/paris')).json();
    expect(body.timeZone).toBe('Europe/Paris');
    expect(body).toMatchObject({
      streak: 1,
      longestStreak: 1,
      lastActiveDay: '2026-01-04',
      activeDays: 2,
    });
  });

  it('refuses time zones that are not IANA names', async () => {
    for (const tz of ['Mars/Olympus', '+01:00', 'UTC+1', 'Europe/Paris%27%3B'])
      expectInvalidAt(await get(student, `/analytics/me?tz=${tz}`), 'querystring.tz', tz);
  });

  it('shows the recent results oldest first, with their trend', async () => {
    const body = (await get(student, '/analytics/me?recent=3')).json();
    expect(
      body.recentTrend.results.map((r: { quizTitle: string; percentage: number }) => [
        r.quizTitle,
        r.percentage,
      ]),
    ).toEqual([
      ['Quiz A', 50],
      ['Quiz A', 100],
      ['Quiz B', 100],
    ]);
    expect(body.recentTrend.slope).toBeCloseTo(25, 10);
    expect(body.recentTrend.direction).toBe('improving');
    const all = (await get(student, '/analytics/me')).json();
    expect(all.recentTrend.results).toHaveLength(4);
    expect(all.recentTrend.results[0].finishedAt).toBe('2026-01-01T23:31:00.000Z');
  });

  it('gives accuracy by tag, leaving out marks the student may not review', async () => {
    const mine = (await get(student, '/analytics/me')).json();
    // algebra: true-false right 2 of 3, numeric right 1 of 3; geometry: numeric 1 of 3.
    expect(mine.accuracyByTag).toEqual([
      { tag: 'algebra', questions: 6, correct: 3, accuracy: 0.5, scoreRate: 50 },
      {
        tag: 'geometry',
        questions: 3,
        correct: 1,
        accuracy: expect.closeTo(1 / 3, 10),
        scoreRate: expect.closeTo(100 / 3, 10),
      },
    ]);
    // Staff see every quiz's marks, the never-reviewed one too.
    const staff = (await get(author, `/analytics/users/${student.user.id}`)).json();
    expect(staff.accuracyByTag.map((row: { tag: string }) => row.tag)).toEqual([
      'algebra',
      'geometry',
      'secret',
    ]);
    expect(staff.accuracyByTag[2]).toMatchObject({ questions: 1, correct: 1, accuracy: 1 });
  });

  it('is the user themselves or staff; another student finds no such user', async () => {
    const url = `/analytics/users/${student.user.id}`;
    expect((await get(student, url)).statusCode).toBe(200);
    expect((await get(author, url)).statusCode).toBe(200);
    expect((await get(admin, url)).statusCode).toBe(200);
    const other = await get(classmate, url);
    expect(other.statusCode).toBe(404);
    expect(other.json().code).toBe('USER_NOT_FOUND');
    expect((await get(admin, '/analytics/users/no-such-user')).statusCode).toBe(404);
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/v1/analytics/me' });
    expect(anonymous.statusCode).toBe(401);
  });

  it('gives a student with no activity zeros, not errors', async () => {
    const body = (await get(classmate, '/analytics/me')).json();
    expect(body).toMatchObject({
      quizzesTaken: 0,
      attempts: 0,
      averageScore: null,
      accuracyByTag: [],
      streak: 0,
      longestStreak: 0,
      lastActiveDay: null,
      recentTrend: { results: [], slope: null, direction: null },
      challenges: { submissions: 0, tried: 0, solved: 0 },
    });
  });

  it('gives admins the platform totals, and nobody else', async () => {
    expect((await get(author, '/analytics/overview')).statusCode).toBe(403);
    expect((await get(student, '/analytics/overview')).statusCode).toBe(403);
    const response = await get(admin, '/analytics/overview');
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json();
    expect(body.users).toEqual({
      total: 4,
      byRole: { admin: 1, instructor: 1, student: 2 },
      // Everyone signed in during the last 7 days (just now).
      activeLast7Days: 4,
      activeLast30Days: 4,
    });
    expect(body.quizzes).toEqual({ total: 2, byStatus: { draft: 0, published: 2, archived: 0 } });
    expect(body.questions).toEqual({ total: 3 });
    expect(body.attempts).toEqual({
      total: 4,
      byStatus: { graded: 4 },
      startedLast7Days: 4,
      startedLast30Days: 4,
    });
    expect(body.submissions).toEqual({ total: 0, byVerdict: {} });
    // No worker runs in this test: the two quizzes' announcements wait in the mail queue.
    const mail = body.queue.byQueue.find((row: { queue: string }) => row.queue === 'mail');
    expect(mail?.pending).toBeGreaterThanOrEqual(2);
    expect(body.queue.backlog).toBe(
      body.queue.byQueue.reduce(
        (sum: number, row: { pending: number; running: number }) => sum + row.pending + row.running,
        0,
      ),
    );
  });

  it('counts as active only those who used the platform in the window', async () => {
    // Eight days on, only the admin signs in again.
    t.clock.advance(8 * 24 * HOUR);
    admin = await fresh('admin');
    const body = (await get(admin, '/analytics/overview')).json();
    expect(body.users.activeLast7Days).toBe(1);
    expect(body.users.activeLast30Days).toBe(4);
    expect(body.attempts.startedLast7Days).toBe(0);
    expect(body.attempts.startedLast30Days).toBe(4);
  });
});
