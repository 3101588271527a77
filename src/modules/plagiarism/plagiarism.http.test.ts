import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createTestApp, type TestApp } from '../../../test/support/app.ts';
import { bearer, signedIn, type Tokens } from '../../../test/support/auth.ts';
import { eventually } from '../../../test/support/backends.ts';
import { createChallenge, submitProgram } from '../../../test/support/challenges.ts';
import { databaseKinds } from '../../../test/support/databases.ts';
import { namedStudent } from '../../../test/support/leaderboards.ts';
import { jobs } from '../../platform/queue/jobs.tables.ts';
import { startWorkerRole, type WorkerRole } from '../../worker.ts';
import { reportMissingSandbox, sandboxUnusable } from '../sandbox/sandbox.test-utils.ts';
import { PYTHON, PYTHON_COPY, PYTHON_OWN } from './plagiarism.test-programs.ts';

/**
 * Plagiarism reports through HTTP, from submissions judged in the real sandbox by the worker
 * role: the judge and the plagiarism queue both run, on every database, and on BullMQ when
 * REDIS_URL is set.
 */
const sandboxProblem = await sandboxUnusable();
const redis = inject('redis');
const variants = [
  ...databaseKinds().map((kind) => ({ name: `${kind}, in-process queue`, kind, redis: false })),
  ...(redis
    ? [{ name: `${databaseKinds().at(-1)}, BullMQ`, kind: databaseKinds().at(-1)!, redis: true }]
    : []),
];

// A line of every program but the independent one: no report or log line may carry it.
const CODE_LINE = 'list(map(int, input().split()))';

if (sandboxProblem !== null) reportMissingSandbox('plagiarism reports over HTTP', sandboxProblem);
describe.skipIf(sandboxProblem !== null).each(variants)(
  'plagiarism reports over HTTP ($name)',
  (variant) => {
    let t: TestApp;
    let worker: WorkerRole | undefined;
    let author: Tokens;
    let otherInstructor: Tokens;
    let admin: Tokens;
    let ada: Tokens;
    let ben: Tokens;
    let cy: Tokens;
    const submitted = { ada: '', ben: '', cy: '' };
    let challengeId = '';

    const url = (id = challengeId) => `/api/v1/challenges/${id}/plagiarism`;
    const get = (who: Tokens | null, id = challengeId, query = '') =>
      t.app.inject({ method: 'GET', url: `${url(id)}${query}`, headers: who ? bearer(who) : {} });
    const post = (who: Tokens | null, id = challengeId) =>
      t.app.inject({ method: 'POST', url: url(id), headers: who ? bearer(who) : {} });
    const reportJobs = async () =>
      (
        await t.deps.database.db.select().from(jobs).where(eq(jobs.type, 'plagiarism.report'))
      ).filter((job) => (job.payload as { challengeId: string }).challengeId === challengeId);
    /** Polls a GET until its body is `done` (with `eventually`: expect.poll cannot run in beforeAll). */
    const until = (path: string, who: Tokens, done: (body: Record<string, unknown>) => boolean) =>
      eventually(
        async () => {
          const body = (await t.app.inject({ url: path, headers: bearer(who) })).json();
          return done(body) ? body : undefined;
        },
        { timeoutMs: 30_000, intervalMs: 50, what: `${path} to be done` },
      );
    const completed = async () =>
      (await until(url(), author, (body) => body.status === 'completed')) as {
        pairs: Array<Record<string, unknown>>;
      } & Record<string, unknown>;
    /** A judged submission, a second after the last one (a pair's `a` is the earlier). */
    const submit = async (who: Tokens, source: string) => {
      t.clock.advance(1_000);
      const id = await submitProgram(t, who, { challengeId, source });
      await until(`/api/v1/submissions/${id}`, who, (body) => body.status === 'completed');
      return id;
    };

    beforeAll(async () => {
      t = await createTestApp({
        database: variant.kind,
        env: {
          RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '1000',
          ...(variant.redis
            ? { REDIS_URL: redis!.url, REDIS_PREFIX: `${redis!.prefix}-plagiarism-${process.pid}` }
            : {}),
        },
      });
      worker = await startWorkerRole(t.deps);
      author = await signedIn(t, 'instructor');
      otherInstructor = await signedIn(t, 'instructor');
      admin = await signedIn(t, 'admin');
      ada = await namedStudent(t, 'Ada');
      ben = await namedStudent(t, 'Ben');
      cy = await namedStudent(t, 'Cy');
      challengeId = await createChallenge(
        t,
        author,
        { title: 'Even sum', statement: 'Sum the even numbers.' },
        [{ input: '4\n1 2 3 4\n', expectedOutput: '6\n', hidden: true }],
      );
      submitted.ada = await submit(ada, PYTHON);
      submitted.ben = await submit(ben, PYTHON_COPY);
      submitted.cy = await submit(cy, PYTHON_OWN);
    }, 120_000);
    afterAll(async () => {
      await worker?.close(5_000);
      await t?.close();
    });

    it('has no report before one is asked for: status none, no pairs', async () => {
      const response = await get(author);
      expect(response.statusCode, response.body).toBe(200);
      expect(response.json()).toEqual({
        challengeId,
        status: 'none',
        requestedAt: null,
        computedAt: null,
        submissionsCompared: 0,
        pairs: [],
      });
    });

    it('is the author’s and admins’: 401 without a token, 403 to students and other instructors, 404 for unknown and deleted challenges', async () => {
      for (const send of [get, post]) {
        expect((await send(null)).statusCode).toBe(401);
        const student = await send(ada);
        expect(student.statusCode).toBe(403);
        expect(student.headers['content-type']).toMatch(/application\/problem\+json/);
        const notTheirs = await send(otherInstructor);
        expect(notTheirs.statusCode).toBe(403);
        expect(notTheirs.json()).toMatchObject({ code: 'FORBIDDEN' });
        const unknown = await send(admin, 'no-such-challenge');
        expect(unknown.statusCode).toBe(404);
        expect(unknown.json()).toMatchObject({ code: 'CHALLENGE_NOT_FOUND' });
      }
      const gone = await t.app.inject({
        method: 'POST',
        url: '/api/v1/challenges',
        headers: bearer(author),
        payload: { title: 'Soon gone', statement: 'Deleted below.', languages: ['python'] },
      });
      const goneId = gone.json().id as string;
      expect(
        (
          await t.app.inject({
            method: 'DELETE',
            url: `/api/v1/challenges/${goneId}`,
            headers: bearer(author),
          })
        ).statusCode,
      ).toBeLessThan(300);
      for (const who of [author, admin]) {
        expect((await get(who, goneId)).json()).toMatchObject({
          status: 404,
          code: 'CHALLENGE_NOT_FOUND',
        });
        expect((await post(who, goneId)).statusCode).toBe(404);
      }
      expect((await get(author)).json().status).toBe('none');
    });

    it('recomputes in the background: the renamed copy comes first, with its lines; the independent solution is not listed', async () => {
      // Asked twice at once: one recompute, one job.
      const [first, second] = await Promise.all([post(author), post(author)]);
      expect(first.statusCode).toBe(202);
      expect(second.statusCode).toBe(202);
      expect(first.json()).toMatchObject({
        challengeId,
        status: expect.stringMatching(/^(queued|running)$/),
      });
      expect([first.json().status, second.json().status]).toContain('queued');
      const report = await completed();
      expect(await reportJobs()).toHaveLength(1);

      expect(report).toMatchObject({ challengeId, submissionsCompared: 3 });
      expect(report.computedAt).toEqual(expect.any(String));
      expect(report.pairs).toHaveLength(1);
      const [pair] = report.pairs as Array<{ similarity: number } & Record<string, unknown>>;
      expect(pair).toEqual({
        a: submitted.ada,
        b: submitted.ben,
        similarity: expect.any(Number),
        aShare: expect.any(Number),
        bShare: expect.any(Number),
        language: 'python',
        aUser: { id: ada.user.id, name: 'Ada' },
        bUser: { id: ben.user.id, name: 'Ben' },
        // From `def` to the call in each: line 2 to 11 of Ada's, 1 to 13 of Ben's.
        matches: [{ aLines: [2, 11], bLines: [1, 13] }],
      });
      expect(pair!.similarity).toBeGreaterThanOrEqual(0.8);
      expect(pair!.similarity).toBe(Math.max(Number(pair!.aShare), Number(pair!.bShare)));
      const all = JSON.stringify(report);
      expect(all).not.toContain(submitted.cy);
      // The report holds ids and line ranges, never code or test data.
      expect(all).not.toContain(CODE_LINE);
      expect(all).not.toContain('1 2 3 4');

      // An admin sees the same report; minSimilarity filters it.
      expect((await get(admin)).json().pairs).toHaveLength(1);
      expect((await get(author, challengeId, '?minSimilarity=1.0')).json().pairs).toHaveLength(
        pair!.similarity === 1 ? 1 : 0,
      );
      expect((await get(author, challengeId, '?minSimilarity=2')).statusCode).toBe(400);
    });

    it('keeps the previous pairs visible while a recompute waits, then compares each user’s latest submission', async () => {
      const before = await completed();
      // No worker for a moment: the recompute stays queued, and the old report stays readable.
      await worker?.close(5_000);
      worker = undefined;
      const queued = await post(author);
      expect(queued.json()).toEqual({ challengeId, status: 'queued' });
      const waiting = (await get(author)).json();
      expect(waiting.status).toBe('queued');
      expect(waiting.pairs).toEqual(before.pairs);
      expect(waiting.computedAt).toBe(before.computedAt);
      expect((await post(author)).json()).toEqual({ challengeId, status: 'queued' });
      expect(await reportJobs()).toHaveLength(2);

      worker = await startWorkerRole(t.deps);
      await completed();
      // Ben now stands by another program (Cy's, renamed): his latest submission is compared.
      submitted.ben = await submit(ben, PYTHON_OWN.replaceAll('data', 'words'));
      expect((await post(author)).json()).toEqual({ challengeId, status: 'queued' });
      const after = await completed();
      expect(after.submissionsCompared).toBe(3);
      expect(
        after.pairs.map((pair) => [pair.a, pair.b].sort()),
        'Ben’s new program is Cy’s renamed',
      ).toEqual([[submitted.ben, submitted.cy].sort()]);
    }, 60_000);

    it('changes nothing when a served job is delivered again; a job that gave up leaves the report failed with its pairs', async () => {
      const before = await completed();
      const served = (await reportJobs()).at(-1)!.payload as {
        challengeId: string;
        requestId: string;
      };
      await t.deps.plagiarism.compute({
        request: served,
        signal: new AbortController().signal,
        transaction: (work) => t.deps.database.db.transaction(work),
        logger: t.deps.logger,
      });
      expect((await get(author)).json()).toEqual(before);

      await worker?.close(5_000);
      worker = undefined;
      expect((await post(author)).statusCode).toBe(202);
      const pending = (await reportJobs()).find((job) => job.status === 'pending')!;
      await t.deps.plagiarism.abandon(pending.payload as typeof served, 'gave up');
      expect((await get(author)).json()).toEqual({
        ...before,
        status: 'failed',
        requestedAt: expect.any(String),
      });
      // A failed report can be asked for again.
      expect((await post(author)).json()).toEqual({ challengeId, status: 'queued' });
      worker = await startWorkerRole(t.deps);
      expect((await completed()).pairs).toEqual(before.pairs);
    }, 60_000);

    it('never logs a line of the programs', () => {
      expect(t.logs.some((line) => JSON.stringify(line).includes(CODE_LINE))).toBe(false);
    });
  },
);
