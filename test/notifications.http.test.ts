import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationsJobHandlers } from '../src/modules/notifications/notifications.jobs.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import type { RunningWorker } from '../src/platform/queue/job-queue.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn, type Tokens } from './support/auth.ts';
import { databaseKinds } from './support/databases.ts';
import {
  inbox,
  mailJobs,
  mailQueueSettled,
  mailsTo,
  setPreferences,
  startMailWorker,
  takeQuiz,
  waitForMail,
} from './support/notifications.ts';
import { expectInvalidAt } from './support/problems.ts';
import { createQuestion, createQuiz } from './support/quizzes.ts';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.ts';

/**
 * A student who hears nothing of published quizzes: every quiz these tests take is published,
 * and each publish tells every student, which would crowd the inboxes and mailboxes under test.
 */
async function quietStudent(t: TestApp) {
  const student = await signedIn(t, 'student');
  const quiet = await setPreferences(t, student, [
    { kind: 'quiz_published', email: false, inApp: false },
  ]);
  if (quiet.statusCode !== 200) throw new Error(`preferences: ${quiet.body}`);
  return student;
}

describe.each(databaseKinds())('notifications on %s', (kind) => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let author: Tokens;
  let worker: RunningWorker;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({ database: kind, env: { SMTP_URL: smtp.url } });
    author = await signedIn(t, 'instructor');
    worker = await startMailWorker(t);
  });
  afterAll(async () => {
    await worker?.close(5_000);
    await t?.close();
    await smtp?.close();
  });

  it('a landed result is in the inbox at once and mailed (text and HTML), without the marks', async () => {
    const student = await quietStudent(t);
    const other = await quietStudent(t);
    const { quizId, attemptId } = await takeQuiz(t, author, student, {
      title: 'Primes check',
      reviewPolicy: 'after_close',
    });

    // Recorded in the landing transaction: there as soon as the submit answered.
    const listed = await inbox(t, student);
    expect(listed.unreadCount).toBe(1);
    expect(listed.nextCursor).toBeNull();
    expect(listed.items).toEqual([
      {
        id: expect.any(String),
        kind: 'results_available',
        title: 'Results available: Primes check',
        body: expect.stringContaining('shown once the quiz closes'),
        link: `/api/v1/results/attempts/${attemptId}`,
        data: { attemptId, quizId },
        read: false,
        readAt: null,
        createdAt: expect.any(String),
      },
    ]);
    expect(listed.items[0]?.body).not.toMatch(/\bscore\b|\bpoints?\b|\b7\b/i);
    expect((await inbox(t, other)).items).toEqual([]);

    const mail = await waitForMail(smtp, student.user.email, 'Results available: Primes check');
    expect(mail.to).toEqual([student.user.email]);
    expect(mail.subject).toBe('Results available: Primes check');
    for (const part of [mail.text, mail.html]) {
      expect(part).toContain('Primes check');
      expect(part).toContain(`/api/v1/results/attempts/${attemptId}`);
      expect(part).not.toMatch(/\bscore\b|\bpoints?\b/i);
    }
    expect(mail.html).toContain('<h1');
    // Nobody else's address is in it, not even the author's.
    expect(mail.raw).not.toContain(author.user.email);
    expect(mail.raw).not.toContain(other.user.email);
  });

  it('marks read: one, all, only your own; the unread filter and count follow', async () => {
    const student = await quietStudent(t);
    const other = await quietStudent(t);
    for (const title of ['Read one', 'Read two', 'Read three']) {
      await takeQuiz(t, author, student, { title });
      t.clock.advance(1_000);
    }
    const all = await inbox(t, student);
    expect(all.items.map((item) => item.title)).toEqual([
      'Results available: Read three',
      'Results available: Read two',
      'Results available: Read one',
    ]);
    const [newest, middle] = all.items;

    // Someone else's notification does not exist for you, and stays unread.
    for (const url of [
      `/api/v1/notifications/${newest!.id}/read`,
      '/api/v1/notifications/nope/read',
    ]) {
      const stolen = await t.app.inject({ method: 'POST', url, headers: bearer(other) });
      expect(stolen.statusCode).toBe(404);
      expect(stolen.json().code).toBe('NOTIFICATION_NOT_FOUND');
    }
    expect((await inbox(t, student)).unreadCount).toBe(3);

    const read = await t.app.inject({
      method: 'POST',
      url: `/api/v1/notifications/${newest!.id}/read`,
      headers: bearer(student),
    });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({ id: newest!.id, read: true, readAt: expect.any(String) });
    t.clock.advance(60_000);
    const again = await t.app.inject({
      method: 'POST',
      url: `/api/v1/notifications/${newest!.id}/read`,
      headers: bearer(student),
    });
    expect(again.json().readAt).toBe(read.json().readAt);

    expect((await inbox(t, student)).unreadCount).toBe(2);
    expect((await inbox(t, student, '?unread=true')).items.map((item) => item.id)).not.toContain(
      newest!.id,
    );
    expect((await inbox(t, student, '?unread=false')).items.map((item) => item.id)).toEqual([
      newest!.id,
    ]);

    // Pages: newest first, two then one.
    const first = await inbox(t, student, '?limit=2');
    expect(first.items.map((item) => item.id)).toEqual([newest!.id, middle!.id]);
    const second = await inbox(t, student, `?limit=2&cursor=${first.nextCursor}`);
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();

    // read-all is the caller's only.
    await takeQuiz(t, author, other, { title: 'Theirs' });
    const marked = await t.app.inject({
      method: 'POST',
      url: '/api/v1/notifications/read-all',
      headers: bearer(student),
    });
    expect(marked.json()).toEqual({ marked: 2 });
    expect((await inbox(t, student)).unreadCount).toBe(0);
    expect((await inbox(t, other)).unreadCount).toBe(1);
  });

  it('preferences: everything on by default; a partial update changes only what it names', async () => {
    const student = await signedIn(t, 'student');
    const initial = await t.app.inject({
      url: '/api/v1/notifications/preferences',
      headers: bearer(student),
    });
    expect(initial.json()).toEqual({
      preferences: [
        { kind: 'quiz_published', email: true, inApp: true },
        { kind: 'results_available', email: true, inApp: true },
        { kind: 'submission_judged', email: true, inApp: true },
      ],
    });
    const changed = await setPreferences(t, student, [
      { kind: 'submission_judged', email: false },
      { kind: 'quiz_published', inApp: false },
    ]);
    expect(changed.statusCode).toBe(200);
    const expected = {
      preferences: [
        { kind: 'quiz_published', email: true, inApp: false },
        { kind: 'results_available', email: true, inApp: true },
        { kind: 'submission_judged', email: false, inApp: true },
      ],
    };
    expect(changed.json()).toEqual(expected);
    expect(
      (
        await t.app.inject({ url: '/api/v1/notifications/preferences', headers: bearer(student) })
      ).json(),
    ).toEqual(expected);
    // Someone else's are their own.
    const other = await signedIn(t, 'student');
    expect(
      (
        await t.app.inject({ url: '/api/v1/notifications/preferences', headers: bearer(other) })
      ).json().preferences[2],
    ).toEqual({ kind: 'submission_judged', email: true, inApp: true });

    expectInvalidAt(
      await setPreferences(t, student, [{ kind: 'newsletter', email: false }]),
      'body.preferences[0].kind',
      'an unknown kind',
    );
    expectInvalidAt(
      await t.app.inject({
        method: 'PUT',
        url: '/api/v1/notifications/preferences',
        headers: bearer(student),
        payload: { preferences: [{ kind: 'quiz_published', email: 'no' }] },
      }),
      'body.preferences[0].email',
      'a channel that is not a boolean',
    );
  });

  it('an email opt-out stops the mail but keeps the inbox; an in-app opt-out the reverse', async () => {
    const noMail = await quietStudent(t);
    const noInbox = await quietStudent(t);
    expect(
      (await setPreferences(t, noMail, [{ kind: 'results_available', email: false }])).statusCode,
    ).toBe(200);
    expect(
      (await setPreferences(t, noInbox, [{ kind: 'results_available', inApp: false }])).statusCode,
    ).toBe(200);
    await takeQuiz(t, author, noMail, { title: 'Quiet one' });
    await takeQuiz(t, author, noInbox, { title: 'Quiet two' });

    expect((await inbox(t, noMail)).items.map((item) => item.title)).toEqual([
      'Results available: Quiet one',
    ]);
    expect((await inbox(t, noInbox)).items).toEqual([]);
    expect((await inbox(t, noInbox)).unreadCount).toBe(0);

    // The in-app opt-out still gets its mail; the email opt-out never had a mail job queued.
    await waitForMail(smtp, noInbox.user.email, 'Results available: Quiet two');
    await expect.poll(() => mailQueueSettled(t)).toBe(true);
    expect(await mailsTo(smtp, noMail.user.email)).toEqual([]);
  });

  it('a fact recorded twice writes one notice and sends one mail', async () => {
    const student = await quietStudent(t);
    const { quizId, attemptId } = await takeQuiz(t, author, student, { title: 'Twice' });
    await waitForMail(smtp, student.user.email, 'Results available: Twice');
    // The hook runs again for the same attempt (a replayed landing): nothing new.
    const dispatch = await t.deps.database.db.transaction((tx) =>
      t.deps.notifications.resultAvailable(tx, {
        attemptId,
        quizId,
        userId: student.user.id,
        status: 'graded',
      }),
    );
    await dispatch();
    await takeQuiz(t, author, student, { title: 'Then once more' });
    await waitForMail(smtp, student.user.email, 'Results available: Then once more');
    expect((await inbox(t, student)).items).toHaveLength(2);
    const mails = await mailsTo(smtp, student.user.email);
    expect(mails.map((mail) => mail.subject).sort()).toEqual([
      'Results available: Then once more',
      'Results available: Twice',
    ]);
  });

  it('every route is the caller’s own and needs a sign-in', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/notifications'],
      ['POST', '/api/v1/notifications/read-all'],
      ['POST', '/api/v1/notifications/x/read'],
      ['GET', '/api/v1/notifications/preferences'],
      ['PUT', '/api/v1/notifications/preferences'],
    ] as const) {
      const response = await t.app.inject({ method, url, payload: { preferences: [] } });
      expect(response.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  // Last: it tells every student of this app, so it would disturb the counts above.
  it('a published quiz tells each active student in-app and by mail, minus email opt-outs', async () => {
    const students = [await signedIn(t, 'student'), await signedIn(t, 'student')];
    const optedOut = await signedIn(t, 'student');
    await setPreferences(t, optedOut, [{ kind: 'quiz_published', email: false }]);
    const question = await createQuestion(t, author, {
      type: 'true_false',
      prompt: 'Ready?',
      correct: true,
    });
    const quiz = await createQuiz(t, author, {
      title: 'Announced quiz',
      description: 'Bring a pencil.',
      questions: [{ questionId: question.id }],
    });
    for (const student of students) {
      const mail = await waitForMail(smtp, student.user.email, 'New quiz: Announced quiz');
      expect(mail.text).toContain('Bring a pencil.');
      expect(mail.html).toContain('Bring a pencil.');
      expect(mail.text).toContain(`/api/v1/quizzes/${quiz.id}`);
    }
    for (const student of [...students, optedOut]) {
      await expect
        .poll(async () => (await inbox(t, student, '?unread=true')).items[0]?.title)
        .toBe('New quiz: Announced quiz');
    }
    await expect.poll(() => mailQueueSettled(t), { timeout: 10_000 }).toBe(true);
    expect(
      (await mailsTo(smtp, optedOut.user.email)).filter((mail) =>
        mail.subject.startsWith('New quiz'),
      ),
    ).toEqual([]);
    expect((await inbox(t, author)).items).toEqual([]);
  });
});

describe.each(databaseKinds())('notification mail delivery on %s', (kind) => {
  let smtp: TestSmtpServer;
  let t: TestApp;
  let author: Tokens;
  let admin: Tokens;

  beforeAll(async () => {
    smtp = await startSmtpServer();
    t = await createTestApp({ database: kind, env: { SMTP_URL: smtp.url } });
    author = await signedIn(t, 'instructor');
    admin = await signedIn(t, 'admin');
  });
  afterAll(async () => {
    await t?.close();
    await smtp?.close();
  });

  it('a refused SMTP send is retried and the mail arrives once', async () => {
    const student = await quietStudent(t);
    await takeQuiz(t, author, student, { title: 'Flaky mail' });
    smtp.failNext(2);
    const refusedBefore = smtp.refused;
    const worker = await startMailWorker(t);
    try {
      const mail = await waitForMail(smtp, student.user.email, 'Results available: Flaky mail');
      expect(mail.text).toContain('Flaky mail');
      expect(smtp.refused - refusedBefore).toBe(2);
      await expect
        .poll(async () => (await mailJobs(t)).filter((job) => job.type === 'notifications.mail'))
        .toEqual([{ type: 'notifications.mail', status: 'completed', attempts: 3 }]);
    } finally {
      await worker.close(5_000);
    }
    expect(await mailsTo(smtp, student.user.email)).toHaveLength(1);
  });

  it('a mail job delivered again, or its handler run again, sends nothing more', async () => {
    const student = await quietStudent(t);
    const { attemptId } = await takeQuiz(t, author, student, { title: 'Delivered twice' });
    const worker = await startMailWorker(t);
    try {
      await waitForMail(smtp, student.user.email, 'Results available: Delivered twice');
      await expect.poll(() => mailQueueSettled(t), { timeout: 10_000 }).toBe(true);
      const [notice] = (await inbox(t, student)).items;
      expect(notice?.data.attemptId).toBe(attemptId);
      // The broker hands the completed job out again: the ledger's claim refuses it.
      const jobId = `notifications.mail.${notice!.id}`;
      await t.deps.driver.push({ queue: 'mail', messageId: `again-${jobId}`, jobId, delayMs: 0 });
      // The handler itself runs again (say its completion was lost): it sees the mail went out.
      await createNotificationsJobHandlers(t.deps)['notifications.mail'](
        { notificationId: notice!.id },
        {
          jobId,
          attempt: 2,
          leaseMs: 60_000,
          signal: new AbortController().signal,
          logger: createLogger({ level: 'silent' }),
          transaction: (work) => t.deps.database.db.transaction(work),
        },
      );
      await expect.poll(() => mailQueueSettled(t)).toBe(true);
    } finally {
      await worker.close(5_000);
    }
    expect(await mailsTo(smtp, student.user.email)).toHaveLength(1);
  });

  it('no mail to a user disabled, deleted or opted out between the fact and the send', async () => {
    const disabled = await quietStudent(t);
    const deleted = await quietStudent(t);
    const optedOut = await quietStudent(t);
    const sentinel = await quietStudent(t);
    for (const [index, student] of [disabled, deleted, optedOut, sentinel].entries())
      await takeQuiz(t, author, student, { title: `Late change ${index}` });

    const patched = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${disabled.user.id}`,
      headers: bearer(admin),
      payload: { disabled: true },
    });
    expect(patched.statusCode).toBe(200);
    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/api/v1/users/${deleted.user.id}`,
      headers: bearer(admin),
    });
    expect(removed.statusCode).toBeLessThan(300);
    await setPreferences(t, optedOut, [{ kind: 'results_available', email: false }]);

    const worker = await startMailWorker(t);
    try {
      await waitForMail(smtp, sentinel.user.email, 'Results available: Late change 3');
      await expect.poll(() => mailQueueSettled(t), { timeout: 10_000 }).toBe(true);
    } finally {
      await worker.close(5_000);
    }
    for (const quiet of [disabled, deleted, optedOut])
      expect(await mailsTo(smtp, quiet.user.email)).toEqual([]);
  });
});
