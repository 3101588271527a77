import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  reportMissingSandbox,
  sandboxUnusable,
} from '../src/modules/sandbox/sandbox.test-utils.ts';
import { startWorkerRole, type WorkerRole } from '../src/worker.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn, type Tokens } from './support/auth.ts';
import { submitProgram } from './support/challenges.ts';
import { namedStudent } from './support/leaderboards.ts';

/**
 * A challenge's board from programs judged in the real sandbox: best score first, then who
 * reached full marks first; the global board adds the challenge's percentage.
 */
const sandboxProblem = await sandboxUnusable();

const RIGHT = 'print(input().upper())\n';
// Passes the first test only ("abc" → "ABC"): half the points.
const HALF = 'input()\nprint("ABC")\n';

if (sandboxProblem !== null) {
  reportMissingSandbox('challenge leaderboards from judged submissions', sandboxProblem);
} else {
  describe('a challenge’s leaderboard from judged submissions', () => {
    let t: TestApp;
    let worker: WorkerRole;
    let author: Tokens;
    let challengeId = '';

    beforeAll(async () => {
      t = await createTestApp({
        env: { RATE_LIMIT_RUNS_PER_MINUTE: '1000', RATE_LIMIT_SUBMISSIONS_PER_MINUTE: '1000' },
      });
      worker = await startWorkerRole(t.deps);
      author = await signedIn(t, 'instructor');
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/challenges',
        headers: bearer(author),
        payload: {
          title: 'Shout',
          statement: 'Print the line in capitals.',
          languages: ['python'],
          points: 50,
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
          { input: 'hello\n', expectedOutput: 'HELLO\n', hidden: true },
        ],
      });
      expect(tests.statusCode, tests.body).toBeLessThan(300);
    });
    afterAll(async () => {
      await worker?.close(5_000);
      await t?.close();
    });

    const student = (name: string) => namedStudent(t, name);
    /** Submits at the current (test) time and waits until it is judged. */
    const submit = async (who: Tokens, source: string) => {
      const id = await submitProgram(t, who, { challengeId, source });
      await expect
        .poll(
          async () =>
            (await t.app.inject({ url: `/api/v1/submissions/${id}`, headers: bearer(who) })).json()
              .status,
          { timeout: 30_000, interval: 100 },
        )
        .toBe('completed');
    };

    it('ranks by best score, then by the earlier first full score', async () => {
      const early = await student('Early');
      const late = await student('Late');
      const half = await student('Half');
      await submit(late, HALF);
      await submit(early, RIGHT);
      t.clock.advance(10_000);
      await submit(late, RIGHT);
      // A worse program later changes nothing.
      await submit(early, HALF);
      await submit(half, HALF);
      type Entry = { rank: number; name: string; score: number; fullScoreAt: string | null };
      let items: Entry[] = [];
      await expect
        .poll(
          async () => {
            const response = await t.app.inject({
              url: `/api/v1/leaderboard/challenges/${challengeId}`,
              headers: bearer(half),
            });
            items = response.json().items;
            return response.json().me?.rank;
          },
          { timeout: 10_000, interval: 100 },
        )
        .toBe(3);
      expect(items.map((item) => [item.rank, item.name, item.score])).toEqual([
        [1, 'Early', 50],
        [2, 'Late', 50],
        [3, 'Half', 25],
      ]);
      expect(new Date(items[1]!.fullScoreAt!).getTime()).toBeGreaterThan(
        new Date(items[0]!.fullScoreAt!).getTime(),
      );
      expect(items[2]!.fullScoreAt).toBeNull();
      const global = await t.app.inject({
        url: '/api/v1/leaderboard/global',
        headers: bearer(half),
      });
      expect(global.json().me).toMatchObject({ rank: 3, score: 50, challenges: 1, quizzes: 0 });
    });
  });
}
