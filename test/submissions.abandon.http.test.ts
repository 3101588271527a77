import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JUDGE_ATTEMPTS } from '../src/modules/submissions/submissions.service.ts';
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

// No worker here: a judge job that failed for good is what `abandon` (its give-up hook) ends,
// or the judge itself when its tries ran out with its judges.
describe.each(databaseKinds())('a submission whose judge job failed for good, on %s', (kind) => {
  let t: TestApp;
  let author: Tokens;
  let challengeId: string;

  beforeAll(async () => {
    t = await createTestApp({ database: kind });
    author = await signedIn(t, 'instructor');
    // With a test: a challenge without any takes no submission.
    challengeId = await createChallenge(t, author, { title: 'Sum two numbers' }, [
      { input: '1 2\n', expectedOutput: '3\n' },
    ]);
  });
  afterAll(async () => {
    await t.close();
  });
  /** A queued submission of `student`'s, with no worker to judge it. */
  const submitted = async (student: Tokens): Promise<string> => {
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/submissions',
      headers: bearer(student),
      payload: { challengeId, language: 'python', source: 'print(3)\n' },
    });
    expect(response.statusCode, response.body).toBe(202);
    return response.json().id;
  };

  it('ends as internal_error with 0 points, and says so on the event bus', async () => {
    const student = await signedIn(t, 'student');
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/submissions',
      headers: bearer(student),
      payload: { challengeId, language: 'python', source: 'print(1)\n' },
    });
    expect(created.statusCode).toBe(202);
    const { id } = created.json();
    const events: Array<{ status: string; verdict?: string }> = [];
    const stop = await t.deps.events.subscribe('submissions.changed', (event) => {
      if (event.submissionId === id) events.push(event);
    });
    await t.deps.submissions.abandon(id, 'the database kept failing');
    // A second give-up (or a late one) changes nothing.
    await t.deps.submissions.abandon(id, 'again');
    const got = await t.app.inject({ url: `/api/v1/submissions/${id}`, headers: bearer(student) });
    expect(got.json()).toMatchObject({ status: 'failed', verdict: 'internal_error', score: 0 });
    // One judged event, as SSE streams need to end; the queued one came before.
    await expect
      .poll(() => events.filter((event) => event.status !== 'queued'))
      .toEqual([expect.objectContaining({ status: 'failed', verdict: 'internal_error' })]);
    await stop();
  });

  it('lets the attempt of a quiz code answer finish grading, that question at 0', async () => {
    const code = await createQuestion(t, author, {
      type: 'code',
      prompt: 'Sum two numbers',
      challengeId,
      points: 4,
    });
    const truth = await createQuestion(t, author, {
      type: 'true_false',
      prompt: 'Yes?',
      correct: true,
    });
    const quiz = await createQuiz(t, author, {
      title: 'With a code answer',
      reviewPolicy: 'after_submit',
      questions: [{ questionId: truth.id }, { questionId: code.id }],
    });
    const student = await signedIn(t, 'student');
    const attempt = (await startAttempt(t, student, quiz.id)).json();
    await saveAnswer(t, student, attempt.id, truth.id, true);
    await saveAnswer(t, student, attempt.id, code.id, { language: 'python', source: 'print(3)' });
    const submitted = (await submitAttempt(t, student, attempt.id)).json();
    expect(submitted).toMatchObject({ status: 'grading', score: 1 });
    const submissionId = submitted.questions.find(
      (item: { questionId: string }) => item.questionId === code.id,
    ).submissionId;
    await t.deps.submissions.abandon(submissionId, 'its workers kept dying');
    const result = (
      await t.app.inject({
        url: `/api/v1/results/attempts/${attempt.id}`,
        headers: bearer(student),
      })
    ).json();
    expect(result).toMatchObject({ status: 'graded', score: 1, maxScore: 5 });
    expect(
      result.questions.find((item: { questionId: string }) => item.questionId === code.id),
    ).toMatchObject({ earned: 0, correct: false, submissionId });
  });

  it('ends as internal_error when every try ended with its judge gone', async () => {
    const student = await signedIn(t, 'student');
    const id = await submitted(student);
    // What three judges killed mid-judging leave: three tries, the last lease run out.
    await t.deps.database.db.execute(
      sql`update submissions set status = 'running', tries = ${JUDGE_ATTEMPTS},
        leased_by = 'a judge long gone', lease_until = now() - interval '1 second'
        where id = ${id}`,
    );
    expect((await t.deps.submissions.stranded(0, 1_000)).map((row) => row.id)).toContain(id);
    await t.deps.submissions.judge({ submissionId: id, leaseMs: 60_000, logger: t.deps.logger });
    const got = await t.app.inject({ url: `/api/v1/submissions/${id}`, headers: bearer(student) });
    expect(got.json()).toMatchObject({ status: 'failed', verdict: 'internal_error', score: 0 });
  });

  it('is left to the sweeper when the queue gives up before the tries are spent', async () => {
    const student = await signedIn(t, 'student');
    const id = await submitted(student);
    const statusOf = async () =>
      (await t.app.inject({ url: `/api/v1/submissions/${id}`, headers: bearer(student) })).json();
    // Every delivery failed before claiming (the database was away): nothing was judged.
    await t.deps.submissions.giveUp(id, 'the database was away');
    expect(await statusOf()).toMatchObject({ status: 'queued', verdict: null });
    expect((await t.deps.submissions.stranded(0, 1_000)).map((row) => row.id)).toContain(id);
    // Once its tries are spent, giving up ends it.
    await t.deps.database.db.execute(
      sql`update submissions set tries = ${JUDGE_ATTEMPTS} where id = ${id}`,
    );
    await t.deps.submissions.giveUp(id, 'the last try failed');
    expect(await statusOf()).toMatchObject({ status: 'failed', verdict: 'internal_error' });
  });
});
