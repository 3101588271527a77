import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAttemptsRepository } from '../src/modules/attempts/attempts.repository.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn } from './support/auth.ts';
import { eventually } from './support/backends.ts';
import { databaseKinds } from './support/databases.ts';
import {
  createQuestion,
  createQuiz,
  saveAnswer,
  startAttempt,
  submitAttempt,
} from './support/quizzes.ts';
import { holdRowLock } from './support/row-lock.ts';

/** Autosaves arriving together are written as one statement: each must still fare as if alone. */
describe.each(databaseKinds())('autosave group commit on %s', (kind) => {
  let t: TestApp;
  let quizId: string;
  let numericId: string;
  let textId: string;

  beforeAll(async () => {
    t = await createTestApp({ database: kind });
    const author = await signedIn(t, 'instructor');
    numericId = (
      await createQuestion(t, author, { type: 'numeric', prompt: '6 × 7?', correct: 42 })
    ).id;
    textId = (
      await createQuestion(t, author, {
        type: 'short_answer',
        prompt: 'Capital of France?',
        accepted: ['Paris'],
      })
    ).id;
    quizId = (
      await createQuiz(t, author, {
        title: 'Autosave',
        questions: [{ questionId: numericId }, { questionId: textId }],
      })
    ).id;
  });
  afterAll(async () => {
    await t.close();
  });

  const newAttempt = async () => {
    const student = await signedIn(t, 'student');
    const attempt = (await startAttempt(t, student, quizId)).json();
    return { student, attempt };
  };
  const storedAnswers = async (attemptId: string) =>
    createAttemptsRepository(t.deps.database.db).answersOf(t.deps.database.db, attemptId);

  /**
   * A repository and saves to four other attempts made in the same turn as the saves under test:
   * all go to the database together as one statement (and would, were the batcher to send calls
   * at once, wait for the four slots those take).
   */
  const batching = async () => {
    const repository = createAttemptsRepository(t.deps.database.db);
    const fillers = await Promise.all(Array.from({ length: 4 }, newAttempt));
    const owners = await Promise.all(
      fillers.map(async ({ attempt }) => (await repository.find(attempt.id))!.userId),
    );
    const occupy = () =>
      fillers.map(({ attempt }, index) =>
        repository.saveAnswer({
          attemptId: attempt.id,
          userId: owners[index]!,
          questionId: numericId,
          answer: index,
          at: new Date(),
        }),
      );
    return { repository, occupy };
  };

  it('writes the saves of many students sent at once, each to its own attempt', async () => {
    const students = await Promise.all(Array.from({ length: 25 }, newAttempt));
    const responses = await Promise.all(
      students.flatMap(({ student, attempt }, index) => [
        saveAnswer(t, student, attempt.id, numericId, index),
        saveAnswer(t, student, attempt.id, textId, `answer ${index}`),
      ]),
    );
    for (const response of responses) expect(response.statusCode).toBe(200);
    for (const [index, { student, attempt }] of students.entries()) {
      const reloaded = await t.app.inject({
        method: 'GET',
        url: `/api/v1/attempts/${attempt.id}`,
        headers: bearer(student),
      });
      expect(reloaded.json().answers).toEqual({ [numericId]: index, [textId]: `answer ${index}` });
    }
  });

  it('keeps the last of saves to one question that share a statement, and stores a clear as null', async () => {
    const { attempt } = await newAttempt();
    const { repository, occupy } = await batching();
    const { userId } = (await repository.find(attempt.id))!;
    const saveAs = (questionId: string, answer: unknown) =>
      repository.saveAnswer({ attemptId: attempt.id, userId, questionId, answer, at: new Date() });
    const busy = occupy();
    const results = await Promise.all([
      saveAs(numericId, 1),
      saveAs(numericId, 2),
      saveAs(numericId, 3),
      saveAs(textId, 'Paris'),
      saveAs(textId, null),
    ]);
    expect(results).toEqual([true, true, true, true, true]);
    expect(await Promise.all(busy)).toEqual([true, true, true, true]);
    const stored = await storedAnswers(attempt.id);
    expect(stored.get(numericId)).toBe(3);
    expect(stored.has(textId)).toBe(true);
    expect(stored.get(textId)).toBeNull();
  });

  it('fails only the save the database refuses, and reports a closed attempt per save', async () => {
    const open = await newAttempt();
    const closed = await newAttempt();
    await submitAttempt(t, closed.student, closed.attempt.id);
    const { repository, occupy } = await batching();
    const ownerOf = async (id: string) => (await repository.find(id))!.userId;
    const openOwner = await ownerOf(open.attempt.id);
    const closedOwner = await ownerOf(closed.attempt.id);
    const at = new Date();
    const busy = occupy();
    const [good, refused, late, stranger] = await Promise.allSettled([
      repository.saveAnswer({
        attemptId: open.attempt.id,
        userId: openOwner,
        questionId: numericId,
        answer: 7,
        at,
      }),
      // Past the schema (which refuses it with a 400): PostgreSQL cannot store a NUL in JSON.
      repository.saveAnswer({
        attemptId: open.attempt.id,
        userId: openOwner,
        questionId: textId,
        answer: 'a\u0000b',
        at,
      }),
      repository.saveAnswer({
        attemptId: closed.attempt.id,
        userId: closedOwner,
        questionId: numericId,
        answer: 7,
        at,
      }),
      repository.saveAnswer({
        attemptId: open.attempt.id,
        userId: closedOwner,
        questionId: textId,
        answer: 'x',
        at,
      }),
    ]);
    expect(good).toEqual({ status: 'fulfilled', value: true });
    expect(refused.status).toBe('rejected');
    expect(late).toEqual({ status: 'fulfilled', value: false });
    expect(stranger).toEqual({ status: 'fulfilled', value: false });
    expect(await Promise.all(busy)).toEqual([true, true, true, true]);
    const stored = await storedAnswers(open.attempt.id);
    expect([...stored.entries()]).toEqual([[numericId, 7]]);
    expect((await storedAnswers(closed.attempt.id)).size).toBe(0);
  });

  it('writes in one statement only the owner’s saves to an open attempt', async () => {
    const open = await newAttempt();
    const closed = await newAttempt();
    await submitAttempt(t, closed.student, closed.attempt.id);
    const { repository, occupy } = await batching();
    const openOwner = (await repository.find(open.attempt.id))!.userId;
    const closedOwner = (await repository.find(closed.attempt.id))!.userId;
    const at = new Date();
    const busy = occupy();
    const results = await Promise.all([
      repository.saveAnswer({
        attemptId: open.attempt.id,
        userId: openOwner,
        questionId: numericId,
        answer: 42,
        at,
      }),
      // Another user naming the open attempt, and its owner naming their closed one.
      repository.saveAnswer({
        attemptId: open.attempt.id,
        userId: closedOwner,
        questionId: textId,
        answer: 'not yours',
        at,
      }),
      repository.saveAnswer({
        attemptId: closed.attempt.id,
        userId: closedOwner,
        questionId: textId,
        answer: 'too late',
        at,
      }),
    ]);
    expect(results).toEqual([true, false, false]);
    expect(await Promise.all(busy)).toEqual([true, true, true, true]);
    expect([...(await storedAnswers(open.attempt.id)).entries()]).toEqual([[numericId, 42]]);
    expect((await storedAnswers(closed.attempt.id)).size).toBe(0);
  });

  it.runIf(kind === 'postgres')(
    'does not hold the other saves of a statement while a submit holds one attempt',
    async () => {
      const held = await newAttempt();
      const free = await newAttempt();
      const { repository, occupy } = await batching();
      const heldOwner = (await repository.find(held.attempt.id))!.userId;
      const freeOwner = (await repository.find(free.attempt.id))!.userId;
      // What a submit does first: the attempt's row, FOR UPDATE, until its commit.
      const submit = await holdRowLock(
        t.deps.database.db,
        sql`select id from attempts where id = ${held.attempt.id} for update`,
      );
      const at = new Date();
      const busy = occupy();
      const heldSave = repository.saveAnswer({
        attemptId: held.attempt.id,
        userId: heldOwner,
        questionId: numericId,
        answer: 1,
        at,
      });
      const freeSave = repository.saveAnswer({
        attemptId: free.attempt.id,
        userId: freeOwner,
        questionId: numericId,
        answer: 2,
        at,
      });
      expect(await freeSave).toBe(true);
      expect(await Promise.all(busy)).toEqual([true, true, true, true]);
      let heldDone = false;
      void heldSave.then(() => {
        heldDone = true;
      });
      // The held attempt's save is alone now, queued behind the lock (PostgreSQL says so).
      await eventually(
        async () => {
          const waiting = (await t.deps.database.db.execute(
            sql`select 1 from pg_stat_activity
                where datname = current_database() and wait_event_type = 'Lock'`,
          )) as { rows: unknown[] };
          return waiting.rows.length > 0 ? true : undefined;
        },
        { what: 'a save waiting for the attempt lock' },
      );
      expect(heldDone).toBe(false);
      await submit.release();
      // The "submit" changed nothing, so the attempt is still open and the save lands.
      expect(await heldSave).toBe(true);
      expect((await storedAnswers(held.attempt.id)).get(numericId)).toBe(1);
    },
  );

  it('answers a NUL character or a lone surrogate in an answer with a 400 that says so', async () => {
    const { student, attempt } = await newAttempt();
    const nul = await saveAnswer(t, student, attempt.id, textId, 'Par\u0000is');
    expect(nul.statusCode).toBe(400);
    expect(nul.body).toContain('NUL');
    const broken = await saveAnswer(t, student, attempt.id, textId, 'Par\ud800is');
    expect(broken.statusCode).toBe(400);
    expect(broken.body).toContain('lone surrogate');
    expect((await saveAnswer(t, student, attempt.id, textId, 'Paris 😀')).statusCode).toBe(200);
  });
});
