import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNotificationsJobHandlers } from '../src/modules/notifications/notifications.jobs.ts';
import { createQuizzesJobHandlers } from '../src/modules/quizzes/quizzes.jobs.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, mailbox, signedIn, type Tokens } from './support/auth.ts';
import { createQuestion, createQuiz } from './support/quizzes.ts';

describe('publishing a quiz emails the students', () => {
  let t: TestApp;
  let author: Tokens;
  let students: Tokens[];

  beforeAll(async () => {
    t = await createTestApp();
    author = await signedIn(t, 'instructor');
    students = [];
    for (let index = 0; index < 5; index++) students.push(await signedIn(t, 'student'));
    // A disabled student hears nothing.
    const admin = await signedIn(t, 'admin');
    await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/users/${students[4]!.user.id}`,
      headers: bearer(admin),
      payload: { disabled: true },
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it('notifies each active student in-app and by one mail, in pages of jobs, text and HTML, and only once', async () => {
    const question = await createQuestion(t, author, {
      type: 'true_false',
      prompt: 'Ok?',
      correct: true,
    });
    const quiz = await createQuiz(t, author, {
      title: 'Week 3 check',
      description: 'Ten minutes on loops.',
      durationMinutes: 10,
      questions: [{ questionId: question.id }],
    });
    // A repeat publish changes nothing and announces nothing.
    await t.app.inject({
      method: 'POST',
      url: `/api/v1/quizzes/${quiz.id}/publish`,
      headers: bearer(author),
    });

    const worker = await t.deps.jobs.startWorker({
      handlers: {
        ...createQuizzesJobHandlers({ ...t.deps, pageSize: 2 }),
        ...createNotificationsJobHandlers(t.deps),
      },
      queues: ['mail'],
      concurrency: 1,
    });
    try {
      const announced = async () =>
        (await mailbox(t)).filter((mail) => mail.subject === 'New quiz: Week 3 check');
      await expect.poll(async () => (await announced()).length, { timeout: 10_000 }).toBe(4);
      const mails = await announced();
      const addresses = mails.map((mail) => mail.to.match(/[^\s<>]+@[^\s<>]+/)?.[0]).sort();
      expect(addresses).toEqual(
        students
          .slice(0, 4)
          .map((student) => student.user.email)
          .sort(),
      );
      for (const mail of mails) {
        expect(mail.text).toContain('Ten minutes on loops.');
        expect(mail.text).toContain('10 minutes');
        expect(mail.html).toContain('Week 3 check');
      }
      expect(mails.some((mail) => mail.to.includes(author.user.email))).toBe(false);
      expect(mails.some((mail) => mail.to.includes(students[4]!.user.email))).toBe(false);
      // The same notice is in each student's inbox, with a link to the quiz.
      for (const student of students.slice(0, 4)) {
        const inbox = await t.app.inject({
          url: '/api/v1/notifications',
          headers: bearer(student),
        });
        expect(inbox.json()).toMatchObject({
          unreadCount: 1,
          items: [
            {
              kind: 'quiz_published',
              title: 'New quiz: Week 3 check',
              link: `/api/v1/quizzes/${quiz.id}`,
              data: { quizId: quiz.id },
              read: false,
            },
          ],
        });
      }
      const authorInbox = await t.app.inject({
        url: '/api/v1/notifications',
        headers: bearer(author),
      });
      expect(authorInbox.json().items).toEqual([]);
    } finally {
      await worker.close(5_000);
    }
  });
});
