import { randomBytes, randomUUID } from 'node:crypto';
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
import { expectInvalidAt } from './support/problems.ts';

const sandboxProblem = await sandboxUnusable();

const marker = () => `zq${randomBytes(8).toString('hex')}`;

// The challenge: print the input line upper-cased. Hidden inputs are long random markers.
const UPPER_PY = 'print(input().upper())\n';
const ECHO_C =
  '#include <stdio.h>\nint main(void) { char s[256]; if (!fgets(s, sizeof s, stdin)) return 1; fputs(s, stdout); return 0; }\n';
// Right on short inputs, spins forever on long ones: the hidden tests time out.
const SLOW_ON_HIDDEN_PY = 's = input()\nwhile len(s) > 10: pass\nprint(s.upper())\n';

if (sandboxProblem !== null) {
  reportMissingSandbox('submissions judged in the sandbox', sandboxProblem);
} else {
  describe.each(databaseKinds())('submissions on %s', (kind) => {
    let t: TestApp;
    let author: Tokens;
    let student: Tokens;
    let worker: RunningWorker;
    let challengeId: string;
    const hidden = [marker(), marker()];
    const leaks = [...hidden, ...hidden.map((text) => text.toUpperCase())];
    const bodies: string[] = [];
    const startJudge = () =>
      t.deps.jobs.startWorker({
        // The judge queue also carries Judge0 runs: a worker of it must handle both.
        handlers: { ...createSubmissionsJobHandlers(t.deps), ...createJudge0JobHandlers(t.deps) },
        queues: ['judge'],
        concurrency: 2,
      });

    beforeAll(async () => {
      t = await createTestApp({
        database: kind,
        env: { RATE_LIMIT_RUNS_PER_MINUTE: '1000', RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '1000' },
      });
      author = await signedIn(t, 'instructor');
      student = await signedIn(t, 'student');
      worker = await startJudge();
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/challenges',
        headers: bearer(author),
        payload: {
          title: 'Shout',
          statement: 'Print the line you read in capitals.',
          languages: ['python', 'c'],
          timeLimitMs: 500,
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
          { input: 'hello\n', expectedOutput: 'HELLO\n' },
          {
            input: `${hidden[0]}\n`,
            expectedOutput: `${hidden[0]?.toUpperCase()}\n`,
            hidden: true,
            weight: 2,
          },
          {
            input: `${hidden[1]}\n`,
            expectedOutput: `${hidden[1]?.toUpperCase()}\n`,
            hidden: true,
            weight: 2,
          },
        ],
      });
      expect(tests.statusCode, tests.body).toBeLessThan(300);
    });
    afterAll(async () => {
      await worker?.close(5_000);
      await t?.close();
    });

    const submit = async (language: string, source: string, who: Tokens = student) => {
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/submissions',
        headers: bearer(who),
        payload: { challengeId, language, source },
      });
      bodies.push(response.body);
      return response;
    };
    const get = async (id: string, who: Tokens = student) => {
      const response = await t.app.inject({
        method: 'GET',
        url: `/api/v1/submissions/${id}`,
        headers: bearer(who),
      });
      if (who === student) bodies.push(response.body);
      return response;
    };
    const judged = async (id: string) => {
      let body: Record<string, unknown> = {};
      await expect
        .poll(
          async () => {
            body = (await get(id)).json();
            return body.status;
          },
          { timeout: 60_000, interval: 100 },
        )
        .toMatch(/^(completed|failed)$/);
      return body;
    };

    it('answers 202 queued, then judges every test: accepted with full points', async () => {
      const response = await submit('python', UPPER_PY);
      expect(response.statusCode).toBe(202);
      expect(response.json()).toMatchObject({ status: 'queued' });
      const result = await judged(response.json().id);
      expect(result).toMatchObject({
        status: 'completed',
        verdict: 'accepted',
        score: 60,
        maxScore: 60,
      });
      expect(result.tests).toEqual([
        expect.objectContaining({ index: 1, hidden: false, verdict: 'accepted', stdout: 'ABC\n' }),
        expect.objectContaining({
          index: 2,
          hidden: false,
          verdict: 'accepted',
          stdout: 'HELLO\n',
        }),
        {
          index: 3,
          hidden: true,
          verdict: 'accepted',
          timeMs: expect.any(Number),
          memoryKb: expect.any(Number),
        },
        {
          index: 4,
          hidden: true,
          verdict: 'accepted',
          timeMs: expect.any(Number),
          memoryKb: expect.any(Number),
        },
      ]);
    }, 90_000);

    it('takes the first failing test’s verdict, shows where a public test differs, and scores by weight', async () => {
      const wrong = await judged((await submit('c', ECHO_C)).json().id);
      expect(wrong).toMatchObject({ verdict: 'wrong_answer', score: 0 });
      // Offline feedback points at the first difference of the first public test.
      expect(wrong.feedback).toMatchObject({ source: 'heuristic' });
      expect((wrong.feedback as { summary: string }).summary).toMatch(/test 1/i);
      expect(JSON.stringify(wrong.feedback)).toMatch(/ABC/);
      expect((wrong.tests as Array<Record<string, unknown>>)[0]).toMatchObject({
        verdict: 'wrong_answer',
        difference: { line: 1, expected: 'ABC', actual: 'abc' },
      });

      const slow = await judged((await submit('python', SLOW_ON_HIDDEN_PY)).json().id);
      expect(slow).toMatchObject({ verdict: 'time_limit_exceeded', score: 20 });
      expect((slow.tests as Array<{ verdict: string }>).map((test) => test.verdict)).toEqual([
        'accepted',
        'accepted',
        'time_limit_exceeded',
        'time_limit_exceeded',
      ]);
    }, 90_000);

    it('judges a program that prints a NUL byte or broken UTF-8: a verdict, not an internal error', async () => {
      // A challenge of its own, so the analytics below count only the shared one's submissions.
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/challenges',
        headers: bearer(author),
        payload: { title: 'Shout once', statement: 'Capitals.', languages: ['python'] },
      });
      expect(created.statusCode, created.body).toBe(201);
      const ownId = created.json().id as string;
      const tests = await t.app.inject({
        method: 'POST',
        url: `/api/v1/challenges/${ownId}/testcases`,
        headers: bearer(author),
        payload: [{ input: 'abc\n', expectedOutput: 'ABC\n' }],
      });
      expect(tests.statusCode, tests.body).toBeLessThan(300);
      // PostgreSQL's jsonb cannot hold \u0000, and the output shown to the student is kept there.
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/submissions',
        headers: bearer(student),
        payload: {
          challengeId: ownId,
          language: 'python',
          source:
            'import sys\ns = input()\nsys.stdout.buffer.write(s.upper().encode() + b"\\x00\\xff\\n")\n',
        },
      });
      expect(response.statusCode, response.body).toBe(202);
      const nul = await judged(response.json().id);
      expect(nul).toMatchObject({ status: 'completed', verdict: 'wrong_answer', score: 0 });
      const first = (nul.tests as Array<Record<string, unknown>>)[0];
      expect(first).toMatchObject({ verdict: 'wrong_answer', difference: { line: 1 } });
      // Shown as the replacement character: visible, storable, and never mistaken for text.
      expect(first?.stdout).toBe('ABC\uFFFD\uFFFD\n');
      expect(JSON.stringify(nul.feedback)).toMatch(/test 1/i);
    }, 90_000);

    it('reports a compile error with the compiler’s message and runs no test', async () => {
      const broken = await judged(
        (await submit('c', 'int main(void) { return missing; }\n')).json().id,
      );
      expect(broken).toMatchObject({
        status: 'completed',
        verdict: 'compilation_error',
        score: 0,
        tests: [],
      });
      expect(broken.compileOutput).toMatch(/missing/);
      expect(JSON.stringify(broken.feedback)).toMatch(/line 1/);
    }, 60_000);

    it('refuses what cannot be judged before storing anything', async () => {
      expectInvalidAt(
        await submit('java', 'class Main {}'),
        'body.language',
        'a language the challenge does not take',
      );
      expectInvalidAt(
        await submit('python', `#${'x'.repeat(64 * 1024)}`),
        'body.source',
        'a source over 64 KiB',
      );
      const unknown = await t.app.inject({
        method: 'POST',
        url: '/api/v1/submissions',
        headers: bearer(student),
        payload: { challengeId: randomUUID(), language: 'python', source: 'print(1)' },
      });
      expectInvalidAt(unknown, 'body.challengeId', 'an unknown challenge');
      const extra = await t.app.inject({
        method: 'POST',
        url: '/api/v1/submissions',
        headers: bearer(student),
        payload: { challengeId, language: 'python', source: 'print(1)', score: 100 },
      });
      expectInvalidAt(extra, 'body', 'an unknown field');
      const inQuiz = await t.app.inject({
        method: 'POST',
        url: '/api/v1/submissions',
        headers: bearer(student),
        payload: { challengeId, language: 'python', source: 'print(1)', attemptId: randomUUID() },
      });
      expectInvalidAt(inQuiz, 'body.attemptId', 'code answers are judged with their attempt');
      expect(inQuiz.json().errors[0].message).toContain('/attempts/{id}/answers');
      // No tests yet: nothing to judge against, so no "accepted" for passing none of them.
      const untested = await createChallenge(t, author, { title: 'Not ready' });
      const early = await t.app.inject({
        method: 'POST',
        url: '/api/v1/submissions',
        headers: bearer(student),
        payload: { challengeId: untested, language: 'python', source: 'print(1)' },
      });
      expect(early.statusCode, early.body).toBe(409);
      expect(early.json()).toMatchObject({ code: 'CHALLENGE_HAS_NO_TESTS' });
    });

    it('shows a submission to its owner, the challenge’s instructor and admins only', async () => {
      const id = (await submit('python', UPPER_PY)).json().id as string;
      await judged(id);
      expect((await get(id, await signedIn(t, 'student'))).statusCode).toBe(404);
      expect((await get(id, await signedIn(t, 'instructor'))).statusCode).toBe(404);
      expect((await get(id, author)).statusCode).toBe(200);
      expect((await get(id, await signedIn(t, 'admin'))).statusCode).toBe(200);

      const mine = await t.app.inject({
        method: 'GET',
        url: `/api/v1/submissions?challengeId=${challengeId}`,
        headers: bearer(student),
      });
      bodies.push(mine.body);
      expect(
        mine.json().items.every((item: { userId: string }) => item.userId === student.user.id),
      ).toBe(true);
      const staff = await t.app.inject({
        method: 'GET',
        url: `/api/v1/submissions?challengeId=${challengeId}`,
        headers: bearer(author),
      });
      expect(staff.json().items.length).toBeGreaterThanOrEqual(mine.json().items.length);
      // With no challenge named, an instructor gets the submissions to their own challenges.
      const all = await t.app.inject({
        url: '/api/v1/submissions?limit=100',
        headers: bearer(author),
      });
      expect(all.statusCode, all.body).toBe(200);
      expect(all.json().items.map((item: { id: string }) => item.id)).toContain(id);
      const stranger = await signedIn(t, 'instructor');
      const none = await t.app.inject({ url: '/api/v1/submissions', headers: bearer(stranger) });
      expect(none.json()).toEqual({ items: [], nextCursor: null });
      const named = await t.app.inject({
        url: `/api/v1/submissions?challengeId=${challengeId}`,
        headers: bearer(stranger),
      });
      expect(named.statusCode, named.body).toBe(403);
    }, 60_000);

    it('judges a submission once, however often its job is delivered', async () => {
      const id = (await submit('python', UPPER_PY)).json().id as string;
      const first = await judged(id);
      const logger = t.deps.logger;
      await t.deps.submissions.judge({
        submissionId: id,
        leaseMs: 60_000,
        logger,
      });
      expect((await get(id)).json()).toEqual(first);
    }, 60_000);

    it('lets one of two judges at once claim a submission: one result, one judged event', async () => {
      await worker.close(5_000);
      const id = (await submit('python', UPPER_PY)).json().id as string;
      // Unjudged and unclaimed: what the sweeper would push again after its grace.
      expect((await t.deps.submissions.stranded(0, 1_000)).map((row) => row.id)).toContain(id);
      // The judge queue's depth is counted in the submissions: its jobs have no ledger row.
      const metrics = await t.app.inject({ url: '/metrics' });
      expect(metrics.body).toMatch(/assay_queue_depth\{queue="judge",state="pending"\} [1-9]/);
      const judgedEvents: string[] = [];
      let claims = 0;
      const stop = await t.deps.events.subscribe('submissions.changed', (event) => {
        if (event.submissionId !== id) return;
        if (event.verdict) judgedEvents.push(event.verdict);
        if (event.status === 'running' && !event.test) claims += 1;
      });
      const judge = () =>
        t.deps.submissions.judge({ submissionId: id, leaseMs: 60_000, logger: t.deps.logger });
      await Promise.all([judge(), judge()]);
      const result = (await get(id)).json();
      expect(result).toMatchObject({ status: 'completed', verdict: 'accepted', score: 60 });
      await expect.poll(() => judgedEvents).toEqual(['accepted']);
      // The other judge found it held and ran nothing.
      expect(claims).toBe(1);
      await stop();
      expect((await t.deps.submissions.stranded(0, 1_000)).map((row) => row.id)).not.toContain(id);
      worker = await startJudge();
    }, 60_000);

    it('streams status and per-test progress, then the result, to its owner only', async () => {
      // The judge is paused so the stream opens before judging starts.
      await worker.close(5_000);
      const id = (await submit('python', UPPER_PY)).json().id as string;
      const ticket = (
        await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/sse-ticket',
          headers: bearer(student),
        })
      ).json().ticket as string;
      const streamed = t.app.inject({
        method: 'GET',
        url: `/api/v1/submissions/${id}/events?ticket=${encodeURIComponent(ticket)}`,
      });
      const open = async () =>
        (await t.deps.metrics.openStreams.get()).values.find(
          (value) => value.labels.stream === 'submission',
        )?.value ?? 0;
      await expect.poll(open, { timeout: 10_000 }).toBe(1);
      worker = await startJudge();
      const response = await streamed;
      bodies.push(response.body);
      expect(await open()).toBe(0);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
      const events = response.body
        .split('\n\n')
        .filter((block) => block.startsWith('event:'))
        .map((block) => {
          const [name, data] = block.split('\n');
          return { event: name?.slice(7), data: JSON.parse(data?.slice(6) ?? 'null') };
        });
      expect(events[0]).toEqual({ event: 'status', data: { status: 'queued' } });
      expect(events.filter((e) => e.event === 'test').map((e) => e.data)).toEqual([
        { index: 1, of: 4, verdict: 'accepted' },
        { index: 2, of: 4, verdict: 'accepted' },
        { index: 3, of: 4, verdict: 'accepted' },
        { index: 4, of: 4, verdict: 'accepted' },
      ]);
      expect(events.at(-1)).toMatchObject({ event: 'result', data: { id, verdict: 'accepted' } });

      // A ticket works once; another student cannot follow the submission.
      const again = await t.app.inject({
        method: 'GET',
        url: `/api/v1/submissions/${id}/events?ticket=${encodeURIComponent(ticket)}`,
      });
      expect(again.statusCode).toBe(401);
      const stranger = await t.app.inject({
        method: 'GET',
        url: `/api/v1/submissions/${id}/events`,
        headers: bearer(await signedIn(t, 'student')),
      });
      expect(stranger.statusCode).toBe(404);
      // A judged submission's stream gives its state and result at once.
      const done = await t.app.inject({
        method: 'GET',
        url: `/api/v1/submissions/${id}/events`,
        headers: bearer(student),
      });
      expect(done.body).toMatch(
        /^event: status\ndata: \{"status":"completed"\}\n\nevent: result\n/,
      );
    }, 90_000);

    it('gives the challenge’s author its submissions by verdict and language, computed in SQL', async () => {
      const stats = await t.app.inject({
        method: 'GET',
        url: `/api/v1/analytics/challenges/${challengeId}`,
        headers: bearer(author),
      });
      expect(stats.statusCode).toBe(200);
      // Everything this suite submitted: five accepted, one wrong, one slow, one not compiling.
      expect(stats.json()).toEqual({
        challengeId,
        submissions: 8,
        judged: 8,
        byVerdict: { accepted: 5, compilation_error: 1, time_limit_exceeded: 1, wrong_answer: 1 },
        byLanguage: [
          { language: 'c', submissions: 2, accepted: 0, acceptanceRate: 0 },
          { language: 'python', submissions: 6, accepted: 5, acceptanceRate: 5 / 6 },
        ],
        acceptanceRate: 5 / 8,
        users: 1,
        usersAccepted: 1,
        // The test clock stands still: the first submission was the first accepted one.
        medianSecondsToFirstAccept: 0,
      });
      const stranger = await t.app.inject({
        method: 'GET',
        url: `/api/v1/analytics/challenges/${challengeId}`,
        headers: bearer(await signedIn(t, 'instructor')),
      });
      expect(stranger.statusCode).toBe(403);
      const pupil = await t.app.inject({
        method: 'GET',
        url: `/api/v1/analytics/challenges/${challengeId}`,
        headers: bearer(student),
      });
      expect(pupil.statusCode).toBe(403);
    });

    it('never shows a student the hidden tests’ inputs or expected outputs', () => {
      expect(bodies.length).toBeGreaterThan(10);
      for (const body of bodies) for (const leak of leaks) expect(body).not.toContain(leak);
    });
  });
}

describe('the submissions API’s rate limit', () => {
  it('allows RATE_LIMIT_SUBMISSIONS_PER_MINUTE submissions per user, then 429 with Retry-After', async () => {
    const t = await createTestApp({ env: { RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '2' } });
    try {
      const student = await signedIn(t, 'student');
      const responses = [];
      for (let index = 0; index < 3; index++) {
        responses.push(
          await t.app.inject({
            method: 'POST',
            url: '/api/v1/submissions',
            headers: bearer(student),
            payload: { challengeId: 'no-such-challenge', language: 'python', source: 'print(1)' },
          }),
        );
      }
      expect(responses.map((response) => response.statusCode)).toEqual([400, 400, 429]);
      expect(Number(responses[2]!.headers['retry-after'])).toBeGreaterThan(0);
      // The limit is the submissions', not the runs API's (30 a minute by default).
      expect(t.deps.config.sandbox).toMatchObject({ runsPerMinute: 30 });
    } finally {
      await t.close();
    }
  });
});
