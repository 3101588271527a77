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
import { createChallenge } from './support/challenges.ts';
import { databaseKinds } from './support/databases.ts';
import {
  createQuestion,
  createQuiz,
  saveAnswer,
  startAttempt,
  submitAttempt,
} from './support/quizzes.ts';

const sandboxProblem = await sandboxUnusable();

if (sandboxProblem !== null) {
  reportMissingSandbox('code questions in quizzes', sandboxProblem);
} else {
  describe.each(databaseKinds())('code questions in quizzes on %s', (kind) => {
    let t: TestApp;
    let author: Tokens;
    let worker: RunningWorker | undefined;
    let codeQuestion: string;
    let truthQuestion: string;

    beforeAll(async () => {
      t = await createTestApp({
        database: kind,
        env: { RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '1000' },
      });
      author = await signedIn(t, 'instructor');
      const challenge = await t.app.inject({
        method: 'POST',
        url: '/api/v1/challenges',
        headers: bearer(author),
        payload: {
          title: 'Double',
          statement: 'Print twice the number.',
          languages: ['python'],
          points: 10,
        },
      });
      expect(challenge.statusCode, challenge.body).toBe(201);
      const challengeId = challenge.json().id as string;
      const tests = await t.app.inject({
        method: 'POST',
        url: `/api/v1/challenges/${challengeId}/testcases`,
        headers: bearer(author),
        payload: [
          { input: '2\n', expectedOutput: '4\n' },
          { input: '123456789\n', expectedOutput: '246913578\n', hidden: true },
        ],
      });
      expect(tests.statusCode, tests.body).toBeLessThan(300);
      codeQuestion = (
        await createQuestion(t, author, {
          type: 'code',
          prompt: 'Double it',
          challengeId,
          points: 4,
        })
      ).id;
      truthQuestion = (
        await createQuestion(t, author, { type: 'true_false', prompt: 'Yes?', correct: true })
      ).id;
    });
    afterAll(async () => {
      await worker?.close(5_000);
      await t?.close();
    });

    const takeQuiz = async (code: unknown) => {
      const quiz = await createQuiz(t, author, {
        title: 'With code',
        reviewPolicy: 'after_submit',
        questions: [{ questionId: truthQuestion }, { questionId: codeQuestion }],
      });
      const student = await signedIn(t, 'student');
      const attempt = (await startAttempt(t, student, quiz.id)).json();
      expect((await saveAnswer(t, student, attempt.id, truthQuestion, true)).statusCode).toBe(200);
      expect((await saveAnswer(t, student, attempt.id, codeQuestion, code)).statusCode).toBe(200);
      return { student, attempt, submitted: (await submitAttempt(t, student, attempt.id)).json() };
    };
    const result = async (student: Tokens, attemptId: string) =>
      (
        await t.app.inject({
          url: `/api/v1/results/attempts/${attemptId}`,
          headers: bearer(student),
        })
      ).json();

    it('stays grading until the code answer is judged, then counts its points', async () => {
      const landed: Array<{ attemptId: string; score: number }> = [];
      const unsubscribe = await t.deps.events.subscribe('attempts.graded', (event) => {
        landed.push(event);
      });
      const { student, attempt, submitted } = await takeQuiz({
        language: 'python',
        source: 'print(2 * int(input()))\n',
      });
      expect(submitted).toMatchObject({ status: 'grading', score: 1, maxScore: 5 });
      const code = submitted.questions.find(
        (item: { questionId: string }) => item.questionId === codeQuestion,
      );
      expect(code).toMatchObject({ pending: true, submissionId: expect.any(String) });

      worker = await t.deps.jobs.startWorker({
        handlers: { ...createSubmissionsJobHandlers(t.deps), ...createJudge0JobHandlers(t.deps) },
        queues: ['judge'],
        concurrency: 2,
      });
      await expect
        .poll(async () => (await result(student, attempt.id)).status, {
          timeout: 60_000,
          interval: 100,
        })
        .toBe('graded');
      const graded = await result(student, attempt.id);
      expect(graded).toMatchObject({ score: 5, maxScore: 5 });
      // The result is announced when the judge lands it, not at submit while still grading.
      await expect
        .poll(() => landed.filter((event) => event.attemptId === attempt.id))
        .toEqual([
          expect.objectContaining({
            attemptId: attempt.id,
            status: 'graded',
            score: 5,
            maxScore: 5,
          }),
        ]);
      await unsubscribe();
      expect(
        graded.questions.find((item: { questionId: string }) => item.questionId === codeQuestion),
      ).toMatchObject({ earned: 4, correct: true, submissionId: code.submissionId });
      // The per-test verdicts are the submission's: public tests in full, hidden by verdict.
      const submission = await t.app.inject({
        url: `/api/v1/submissions/${code.submissionId}`,
        headers: bearer(student),
      });
      expect(submission.json()).toMatchObject({
        verdict: 'accepted',
        tests: [
          { index: 1, hidden: false, verdict: 'accepted', stdout: '4\n' },
          { index: 2, hidden: true, verdict: 'accepted' },
        ],
      });
      expect(submission.body).not.toContain('123456789');
      expect(submission.body).not.toContain('246913578');
    }, 90_000);

    it('gives a wrong program its share and an unjudgeable answer 0 with the reason', async () => {
      const half = await takeQuiz({
        language: 'python',
        source: 'n = int(input())\nprint(4 if n == 2 else 0)\n',
      });
      await expect
        .poll(async () => (await result(half.student, half.attempt.id)).status, {
          timeout: 60_000,
          interval: 100,
        })
        .toBe('graded');
      // One of two equally weighted tests passed: half of the question's 4 points.
      expect(await result(half.student, half.attempt.id)).toMatchObject({ score: 3 });

      const java = await takeQuiz({ language: 'java', source: 'class Main {}' });
      expect(java.submitted).toMatchObject({ status: 'graded', score: 1 });
      expect(
        java.submitted.questions.find(
          (item: { questionId: string }) => item.questionId === codeQuestion,
        ),
      ).toMatchObject({ earned: 0, note: 'java is not a language of this challenge' });
    }, 90_000);

    it('scores 0 for an answer to a challenge with no tests yet, and the attempt still finishes', async () => {
      const untested = await createChallenge(t, author, { title: 'Not ready' });
      const question = await createQuestion(t, author, {
        type: 'code',
        prompt: 'Anything',
        challengeId: untested,
        points: 4,
      });
      const quiz = await createQuiz(t, author, {
        title: 'Untested code',
        reviewPolicy: 'after_submit',
        questions: [{ questionId: question.id }],
      });
      const student = await signedIn(t, 'student');
      const attempt = (await startAttempt(t, student, quiz.id)).json();
      await saveAnswer(t, student, attempt.id, question.id, {
        language: 'python',
        source: 'print(1)',
      });
      const submitted = (await submitAttempt(t, student, attempt.id)).json();
      await expect
        .poll(async () => (await result(student, attempt.id)).status, {
          timeout: 60_000,
          interval: 100,
        })
        .toBe('graded');
      expect(await result(student, attempt.id)).toMatchObject({ score: 0, maxScore: 4 });
      const submissionId = submitted.questions[0].submissionId as string;
      const submission = await t.app.inject({
        url: `/api/v1/submissions/${submissionId}`,
        headers: bearer(student),
      });
      // Passing no tests is no accept.
      expect(submission.json()).toMatchObject({ status: 'failed', verdict: 'internal_error' });
    }, 90_000);
  });
}
