import { afterEach, describe, expect, inject, it } from 'vitest';
import { startWorkerRole, type WorkerRole } from '../src/worker.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, login, signedIn, type Tokens } from './support/auth.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.ts';
import { namedStudent, takeQuiz, trueStatements } from './support/leaderboards.ts';
import { createQuiz } from './support/quizzes.ts';

type Board = {
  items: Array<{ rank: number; userId: string; name: string; score: number }>;
  me?: { rank: number; score: number };
  total: number;
};
type Received = { event: string; data: Board; at: number };

/** A Server-Sent Events client over fetch, keeping every event with its arrival time. */
async function follow(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const events: Received[] = [];
  let raw = '';
  const decoder = new TextDecoder();
  const reader = response.body!.getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        const text = decoder.decode(value, { stream: true });
        raw += text;
        buffer += text;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event && data) events.push({ event, data: JSON.parse(data), at: Date.now() });
        }
      }
    } catch {
      // aborted
    }
  })();
  return { response, events, raw: () => raw, close: () => controller.abort() };
}

/** Two questions, published; `take` answers `right` of them and submits. */
async function quizOn(t: TestApp, author: Tokens) {
  const questionIds = await trueStatements(t, author, 2);
  const quiz = await createQuiz(t, author, {
    title: 'Streamed',
    questions: questionIds.map((questionId) => ({ questionId })),
    durationMinutes: 10,
  });
  const take = (app: TestApp, who: Tokens, right: number) =>
    takeQuiz(app, who, { id: quiz.id, questionIds }, right, 5);
  return { quiz, take };
}

const student = namedStudent;

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('a quiz board’s stream', () => {
  it('sends the board at once, then again as results land, with the caller’s own entry', async () => {
    const t = await createTestApp({ database: databaseKinds()[0] });
    cleanups.push(() => t.close());
    const worker = await startWorkerRole(t.deps);
    cleanups.push(() => worker.close(5_000));
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const author = await signedIn(t, 'instructor');
    const { quiz, take } = await quizOn(t, author);
    const ann = await student(t, 'Ann');
    const ben = await student(t, 'Ben');
    await take(t, ann, 1);

    const ticket = (
      await t.app.inject({ method: 'POST', url: '/api/v1/auth/sse-ticket', headers: bearer(ann) })
    ).json().ticket as string;
    const stream = await follow(
      `${address}/api/v1/leaderboard/quizzes/${quiz.id}/stream?limit=5&ticket=${encodeURIComponent(ticket)}`,
    );
    cleanups.push(async () => stream.close());
    expect(stream.response.status).toBe(200);
    expect(stream.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await expect.poll(() => stream.events.length, { timeout: 10_000 }).toBeGreaterThan(0);
    // Ann's result may still be syncing when the stream opens: the first event holds what was there.
    await expect.poll(() => stream.events.at(-1)?.data.total, { timeout: 10_000 }).toBe(1);
    expect(stream.events.at(-1)?.data.me).toMatchObject({ rank: 1, score: 1 });

    const landed = await take(t, ben, 2);
    await expect.poll(() => stream.events.at(-1)?.data.total, { timeout: 10_000 }).toBe(2);
    const update = stream.events.at(-1)!;
    expect(update.event).toBe('board');
    expect(update.data.items.map((item) => [item.rank, item.name])).toEqual([
      [1, 'Ben'],
      [2, 'Ann'],
    ]);
    expect(update.data.me).toMatchObject({ rank: 2 });
    expect(update.at - landed).toBeLessThan(1_000);
    expect(stream.raw()).not.toMatch(/@/);
    // A ticket works once.
    const again = await fetch(
      `${address}/api/v1/leaderboard/quizzes/${quiz.id}/stream?ticket=${encodeURIComponent(ticket)}`,
    );
    expect(again.status).toBe(401);
  });

  const redis = inject('redis');
  it.runIf(redis)(
    'delivers a result that lands on another API process within a second (two apps, one Redis)',
    async () => {
      const kind = databaseKinds().at(-1)!;
      const database: TestDatabase = await createTestDatabase(kind);
      const env = {
        REDIS_URL: redis!.url,
        REDIS_PREFIX: `${redis!.prefix}-two-${Math.random().toString(36).slice(2, 8)}`,
      };
      // One database, one Redis, two apps: `a` takes the results (and runs the workers), `b`
      // serves the stream and has no worker at all.
      const a = await createTestApp({ database, env });
      cleanups.push(() => a.close());
      const b = await createTestApp({
        database: { ...database, close: async () => {}, destroy: async () => {} },
        env,
      });
      cleanups.push(() => b.close());
      const worker: WorkerRole = await startWorkerRole(a.deps);
      cleanups.push(() => worker.close(5_000));
      const address = await b.app.listen({ port: 0, host: '127.0.0.1' });

      const author = await signedIn(a, 'instructor');
      const { quiz, take } = await quizOn(a, author);
      const cat = await student(a, 'Cat');
      const dan = await student(a, 'Dan');
      const watcher = await login(b, cat.user.email);
      const streams = await Promise.all(
        [watcher, author].map((who) =>
          follow(`${address}/api/v1/leaderboard/quizzes/${quiz.id}/stream`, bearer(who)),
        ),
      );
      for (const stream of streams) {
        cleanups.push(async () => stream.close());
        expect(stream.response.status).toBe(200);
        await expect.poll(() => stream.events.length, { timeout: 10_000 }).toBe(1);
        expect(stream.events[0]?.data.total).toBe(0);
      }

      const landed = await take(a, dan, 2);
      for (const stream of streams) {
        await expect.poll(() => stream.events.at(-1)?.data.total, { timeout: 5_000 }).toBe(1);
        const update = stream.events.at(-1)!;
        expect(update.data.items[0]).toMatchObject({ rank: 1, name: 'Dan', score: 2 });
        expect(update.at - landed).toBeLessThan(1_000);
      }
      // The watcher's own entry arrives too, once their result lands (on `a` again).
      const second = await take(a, cat, 1);
      await expect.poll(() => streams[0]!.events.at(-1)?.data.me?.rank, { timeout: 5_000 }).toBe(2);
      expect(streams[0]!.events.at(-1)!.at - second).toBeLessThan(1_000);
      expect(streams[1]!.events.at(-1)?.data.me).toBeUndefined();
    },
  );
});
