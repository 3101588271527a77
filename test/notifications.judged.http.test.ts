import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJudge0JobHandlers } from '../src/modules/judge0/judge0.jobs.ts';
import {
  reportMissingSandbox,
  sandboxUnusable,
} from '../src/modules/sandbox/sandbox.test-utils.ts';
import { createSubmissionsJobHandlers } from '../src/modules/submissions/submissions.jobs.ts';
import type { RunningWorker } from '../src/platform/queue/job-queue.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn, type Tokens } from './support/auth.ts';
import { submitProgram } from './support/challenges.ts';
import { databaseKinds } from './support/databases.ts';
import {
  inbox,
  mailQueueSettled,
  mailsTo,
  setPreferences,
  startMailWorker,
  waitForMail,
} from './support/notifications.ts';
import {
  createQuestion,
  createQuiz,
  saveAnswer,
  startAttempt,
  submitAttempt,
} from './support/quizzes.ts';
import { startSmtpServer, type TestSmtpServer } from './support/smtp-server.ts';

const sandboxProblem = await sandboxUnusable();

const marker = () => `zq${randomBytes(8).toString('hex')}`;
// Right on short lines, wrong on the long hidden ones: a partial score.
const SHORT_ONLY_PY = 's = input()\nprint(s.upper() if len(s) < 10 else s)\n';

if (sandboxProblem !== null) {
  reportMissingSandbox('submission_judged notifications', sandboxProblem);
} else {
  describe.each(databaseKinds())('submission_judged notifications on %s', (kind) => {
    let smtp: TestSmtpServer;
    let t: TestApp;
    let author: Tokens;
    let judge: RunningWorker;
    let mail: RunningWorker;
    let challengeId: string;
    const hidden = marker();
    const leaks = [hidden, hidden.toUpperCase()];

    /** A student who hears nothing of published quizzes (the quiz below would tell everyone). */
    const quietStudent = async () => {
      const student = await signedIn(t, 'student');
      await setPreferences(t, student, [{ kind: 'quiz_published', email: false, inApp: false }]);
      return student;
    };

    beforeAll(async () => {
      smtp = await startSmtpServer();
      t = await createTestApp({
        database: kind,
        env: { SMTP_URL: smtp.url, RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '1000' },
      });
      author = await signedIn(t, 'instructor');
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/challenges',
        headers: bearer(author),
        payload: {
          title: 'Shout',
          statement: 'Print the line you read in capitals.',
          languages: ['python'],
          points: 60,
        },
      });
      expect(created.statusCode, created.body).toBe(201);
      challengeId = created.json().id;
      const tests = await t.app.inject({
        method: 'POST',
        url: `/api/v1/challenges/${challengeId}/testcases`,
        headers: bearer(author),
        payload: [
          { input: 'abc\n', expectedOutput: 'ABC\n' },
          { input: `${hidden}\n`, expectedOutput: `${hidden.toUpperCase()}\n`, hidden: true },
        ],
      });
      expect(tests.statusCode, tests.body).toBeLessThan(300);
      judge = await t.deps.jobs.startWorker({
        handlers: { ...createSubmissionsJobHandlers(t.deps), ...createJudge0JobHandlers(t.deps) },
        queues: ['judge'],
        concurrency: 2,
      });
      mail = await startMailWorker(t);
    });
    afterAll(async () => {
      await judge?.close(5_000);
      await mail?.close(5_000);
      await t?.close();
      await smtp?.close();
    });

    const submit = (student: Tokens, source: string) =>
      submitProgram(t, student, { challengeId, source });

    it('tells the verdict and the score in-app and by mail, and nothing of a hidden test', async () => {
      const student = await quietStudent();
      const submissionId = await submit(student, SHORT_ONLY_PY);
      const mailed = await waitForMail(smtp, student.user.email, 'Wrong answer: Shout');

      const { items } = await inbox(t, student);
      expect(items).toEqual([
        expect.objectContaining({
          kind: 'submission_judged',
          title: 'Wrong answer: Shout',
          body: 'Your python submission to Shout has been judged: Wrong answer, 30 of 60 points.',
          link: `/api/v1/submissions/${submissionId}`,
          data: { submissionId, challengeId, verdict: 'wrong_answer', score: 30, maxScore: 60 },
          read: false,
        }),
      ]);
      expect(mailed.to).toEqual([student.user.email]);
      for (const part of [mailed.text, mailed.html]) {
        expect(part).toContain('Wrong answer, 30 of 60 points');
        expect(part).toContain(`/api/v1/submissions/${submissionId}`);
      }
      for (const leak of leaks) {
        expect(JSON.stringify(items)).not.toContain(leak);
        expect(mailed.raw).not.toContain(leak);
      }
      expect(mailed.raw).not.toContain(author.user.email);
    });

    it('an email opt-out keeps the notice in the inbox and sends nothing', async () => {
      const student = await quietStudent();
      await setPreferences(t, student, [{ kind: 'submission_judged', email: false }]);
      await submit(student, 'print(input().upper())\n');
      await expect
        .poll(async () => (await inbox(t, student)).items[0]?.title, { timeout: 60_000 })
        .toBe('Accepted: Shout');
      await expect.poll(() => mailQueueSettled(t), { timeout: 10_000 }).toBe(true);
      expect(await mailsTo(smtp, student.user.email)).toEqual([]);
    });

    it('a code answer in a quiz is told once, as the attempt’s result', async () => {
      const student = await quietStudent();
      const question = await createQuestion(t, author, {
        type: 'code',
        prompt: 'Shout it',
        challengeId,
        points: 4,
      });
      const quiz = await createQuiz(t, author, {
        title: 'Coding quiz',
        reviewPolicy: 'never',
        questions: [{ questionId: question.id }],
      });
      const attempt = (await startAttempt(t, student, quiz.id)).json() as { id: string };
      await saveAnswer(t, student, attempt.id, question.id, {
        language: 'python',
        source: SHORT_ONLY_PY,
      });
      expect((await submitAttempt(t, student, attempt.id)).json().status).toBe('grading');
      // Nothing yet: the result lands when the judge has moved the code answer's points in.
      expect((await inbox(t, student)).items).toEqual([]);

      await waitForMail(smtp, student.user.email, 'Results available: Coding quiz');
      const { items } = await inbox(t, student);
      expect(items.map((item) => item.kind)).toEqual(['results_available']);
      expect(items[0]?.data).toEqual({ attemptId: attempt.id, quizId: quiz.id });
      await expect.poll(() => mailQueueSettled(t), { timeout: 10_000 }).toBe(true);
      const mails = await mailsTo(smtp, student.user.email);
      expect(mails.map((mail) => mail.subject)).toEqual(['Results available: Coding quiz']);
      // A `never` review policy: the mail says nothing of marks or verdicts.
      expect(mails[0]?.text).not.toMatch(/wrong answer|accepted|\bpoints?\b/i);
    });
  });
}
