import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { AttemptBest } from '../src/modules/attempts/attempts.service.ts';
import type { QuizFacts, UserFacts } from '../src/modules/leaderboards/leaderboards.models.ts';
import { createRedisBoardStore } from '../src/modules/leaderboards/leaderboards.redis-store.ts';
import {
  createLeaderboardsService,
  type LeaderboardChange,
} from '../src/modules/leaderboards/leaderboards.service.ts';
import { createSqlBoardStore } from '../src/modules/leaderboards/leaderboards.sql-store.ts';
import type { BoardStore } from '../src/modules/leaderboards/leaderboards.store.ts';
import type { SubmissionBest } from '../src/modules/submissions/submissions.service.ts';
import { createTestClock } from '../src/platform/clock/clock.ts';
import type { Principal } from '../src/platform/http/access.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import { testRedis } from './support/backends.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.ts';

/**
 * The board rules on both stores, from results handed in directly (the attempts and
 * submissions services are stood in for by plain lists; the HTTP suite drives the real ones).
 */
const logger = createLogger({ level: 'silent' });
const kinds = [
  ...databaseKinds().map((kind) => `sql on ${kind}` as const),
  ...(inject('redis') ? (['redis'] as const) : []),
];

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, seconds));

/** What the database would say; tests change it and sync. */
function createTruth() {
  const truth = {
    quizzes: [] as AttemptBest[],
    challenges: [] as SubmissionBest[],
    quizFacts: new Map<string, QuizFacts>(),
    live: new Set<string>(),
    users: new Map<string, UserFacts>(),
    quiz(quizId: string, userId: string, score: number, timeTakenMs: number, maxScore = 10) {
      truth.quizzes = truth.quizzes.filter((b) => !(b.quizId === quizId && b.userId === userId));
      truth.quizzes.push({
        quizId,
        userId,
        score,
        maxScore,
        timeTakenMs,
        submittedAt: at(0),
        bestFraction: score / maxScore,
      });
      truth.quizFacts.set(quizId, { status: 'published', deleted: false, hideLeaderboard: false });
    },
    challenge(challengeId: string, userId: string, score: number, fullScoreAt: Date | null) {
      truth.challenges = truth.challenges.filter(
        (b) => !(b.challengeId === challengeId && b.userId === userId),
      );
      truth.challenges.push({
        challengeId,
        userId,
        score,
        maxScore: 100,
        bestFraction: score / 100,
        fullScoreAt,
      });
      truth.live.add(challengeId);
    },
    student(userId: string, name = `Student ${userId}`) {
      truth.users.set(userId, { name, role: 'student', active: true });
    },
  };
  return truth;
}

const keyset = <T>(
  rows: T[],
  keyOf: (row: T) => string,
  filter: { userId?: string; limit: number },
  after?: string,
) =>
  rows
    .filter((row) => !filter.userId || (row as { userId: string }).userId === filter.userId)
    .filter((row) => after === undefined || keyOf(row) > after)
    .sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1))
    .slice(0, filter.limit);

describe.each(kinds)('leaderboards on %s', (kind) => {
  const databases: TestDatabase[] = [];
  let store: BoardStore;
  let wipe: () => Promise<void>;
  let truth: ReturnType<typeof createTruth>;
  let service: ReturnType<typeof createLeaderboardsService>;
  const published: LeaderboardChange[] = [];
  const student = (userId: string): Principal => ({
    userId,
    role: 'student',
    email: `${userId}@example.com`,
    name: userId,
  });
  const staff: Principal = { userId: 'staff', role: 'instructor', email: 'i@x.y', name: 'I' };

  let open: () => BoardStore;
  const stores: BoardStore[] = [];

  beforeEach(async () => {
    if (!open) {
      if (kind === 'redis') {
        const redis = testRedis(logger);
        const connection = redis.connect();
        const shared = createRedisBoardStore({ redis: connection, prefix: redis.prefix });
        stores.push(shared);
        open = () => shared;
        wipe = async () => {
          const keys = await connection.keys(`${redis.prefix}:*`);
          if (keys.length > 0) await connection.del(...keys);
        };
      } else {
        const database = await createTestDatabase(
          kind === 'sql on postgres' ? 'postgres' : 'pglite',
        );
        databases.push(database);
        // A store per test: its in-memory copies start empty, as in a new process.
        open = () => {
          const made = createSqlBoardStore({ db: database.db, clock: createTestClock() });
          stores.push(made);
          return made;
        };
        wipe = async () => {
          await database.db.execute('delete from leaderboard_entries');
          await database.db.execute('delete from leaderboard_boards');
        };
      }
    }
    store = open();
    await wipe();
    truth = createTruth();
    published.length = 0;
    // A fresh service each test: no read cached from the test before.
    service = createLeaderboardsService({
      store,
      sources: {
        bestQuizResults: async (filter) =>
          keyset(
            truth.quizzes,
            (b) => `${b.quizId}\u0000${b.userId}`,
            filter,
            filter.after && `${filter.after.quizId}\u0000${filter.after.userId}`,
          ),
        bestChallengeResults: async (filter) =>
          keyset(
            truth.challenges,
            (b) => `${b.challengeId}\u0000${b.userId}`,
            filter,
            filter.after && `${filter.after.challengeId}\u0000${filter.after.userId}`,
          ),
        quizFacts: async (ids) =>
          new Map(
            ids.flatMap((id) => (truth.quizFacts.has(id) ? [[id, truth.quizFacts.get(id)!]] : [])),
          ),
        liveChallenges: async (ids) => new Set(ids.filter((id) => truth.live.has(id))),
        users: async (ids) =>
          new Map(ids.flatMap((id) => (truth.users.has(id) ? [[id, truth.users.get(id)!]] : []))),
      },
      publish: async (change) => {
        published.push(change);
      },
      clock: createTestClock(),
      logger,
    });
  });
  afterAll(async () => {
    for (const made of stores) await made.close();
    for (const database of databases) await database.destroy();
  });

  const syncAll = async (...userIds: string[]) => {
    for (const userId of userIds) await service.syncUser(userId);
  };
  const quizBoard = (as: Principal, limit = 20, cursor?: string) =>
    service.view(as, { kind: 'quiz', id: 'q1' }, { limit, ...(cursor ? { cursor } : {}) });

  it('orders a quiz by best score, then shorter time; entries equal on both share a rank', async () => {
    for (const id of ['a', 'b', 'c', 'd', 'e']) truth.student(id);
    truth.quiz('q1', 'a', 9, 120_000);
    truth.quiz('q1', 'b', 10, 300_000);
    truth.quiz('q1', 'c', 9, 60_000);
    truth.quiz('q1', 'd', 9, 120_030); // the same tenth of a second as a: a tie
    truth.quiz('q1', 'e', 2, 1_000);
    await syncAll('a', 'b', 'c', 'd', 'e');
    const view = await quizBoard(student('e'), 3);
    expect(view.items.map((item) => [item.rank, item.userId])).toEqual([
      [1, 'b'],
      [2, 'c'],
      [3, 'd'],
    ]);
    expect(view.items[0]).toEqual({
      rank: 1,
      userId: 'b',
      name: 'Student b',
      score: 10,
      maxScore: 10,
      percentage: 100,
      timeTakenMs: 300_000,
      completedAt: at(0).toISOString(),
    });
    // `me` is the caller's own entry, even far outside the page.
    expect(view.me).toMatchObject({ rank: 5, userId: 'e', score: 2 });
    expect(view.total).toBe(5);
    const next = await quizBoard(student('e'), 3, view.nextCursor!);
    expect(next.items.map((item) => [item.rank, item.userId])).toEqual([
      [3, 'a'],
      [5, 'e'],
    ]);
    expect(next.nextCursor).toBeNull();
    // Staff are not ranked, so they have no `me`.
    expect((await quizBoard(staff)).me).toBeUndefined();
  });

  it('orders a challenge by best score, then the earlier first full score', async () => {
    for (const id of ['a', 'b', 'c', 'd']) truth.student(id);
    truth.challenge('c1', 'a', 100, at(30));
    truth.challenge('c1', 'b', 100, at(10));
    truth.challenge('c1', 'c', 60, null);
    truth.challenge('c1', 'd', 60, null);
    await syncAll('a', 'b', 'c', 'd');
    const view = await service.view(student('c'), { kind: 'challenge', id: 'c1' }, { limit: 10 });
    expect(view.items.map((item) => [item.rank, item.userId, item.fullScoreAt])).toEqual([
      [1, 'b', at(10).toISOString()],
      [2, 'a', at(30).toISOString()],
      [3, 'd', null],
      [3, 'c', null],
    ]);
    expect(view.me).toMatchObject({ rank: 3, score: 60, percentage: 60 });
  });

  it('sums each user’s best percentage per quiz and challenge on the global board', async () => {
    for (const id of ['a', 'b', 'c']) truth.student(id);
    truth.quiz('q1', 'a', 5, 1_000); // 50 %
    truth.quiz('q2', 'a', 10, 1_000); // 100 %
    truth.challenge('c1', 'b', 100, at(1)); // 100 %
    truth.quiz('q1', 'b', 5, 1_000); // 50 %
    truth.quiz('q1', 'c', 1, 1_000); // 10 %
    await syncAll('a', 'b', 'c');
    const view = await service.view(student('c'), { kind: 'global' }, { limit: 10 });
    expect(view.items.map((item) => [item.rank, item.userId, item.score])).toEqual([
      [1, 'b', 150],
      [1, 'a', 150],
      [3, 'c', 10],
    ]);
    expect(view.items[0]).toMatchObject({ quizzes: 1, challenges: 1 });
    expect(view.me).toMatchObject({ rank: 3, score: 10 });
  });

  it('takes users off when they no longer count, and writes only what changed', async () => {
    for (const id of ['a', 'b']) truth.student(id);
    truth.quiz('q1', 'a', 5, 1_000);
    truth.quiz('q1', 'b', 6, 1_000);
    await syncAll('a', 'b');
    expect(published.flatMap((change) => change.boards).sort()).toEqual([
      'global',
      'global',
      'quiz:q1',
      'quiz:q1',
    ]);
    published.length = 0;
    // Nothing changed: nothing written, nothing announced.
    expect(await service.syncUser('a')).toEqual([]);
    expect(published).toEqual([]);

    truth.users.set('b', { name: 'Student b', role: 'student', active: false });
    expect((await service.syncUser('b')).sort()).toEqual(['global', 'quiz:q1']);
    expect((await quizBoard(staff)).items.map((item) => item.userId)).toEqual(['a']);

    truth.users.set('a', { name: 'Student a', role: 'instructor', active: true });
    await service.syncUser('a');
    expect((await quizBoard(staff)).items).toEqual([]);
    expect((await service.view(staff, { kind: 'global' }, { limit: 5 })).items).toEqual([]);
  });

  it('shows a renamed user under the new name after a sync', async () => {
    truth.student('a', 'Ada');
    truth.quiz('q1', 'a', 5, 1_000);
    await syncAll('a');
    truth.student('a', 'Ada Lovelace');
    await syncAll('a');
    expect((await quizBoard(staff)).items[0]?.name).toBe('Ada Lovelace');
  });

  it('hides a quiz board from students when its author says so, never from staff', async () => {
    truth.student('a');
    truth.quiz('q1', 'a', 5, 1_000);
    await syncAll('a');
    truth.quizFacts.set('q1', { status: 'published', deleted: false, hideLeaderboard: true });
    service.forgetQuiz('q1');
    await expect(quizBoard(student('a'))).rejects.toMatchObject({
      status: 403,
      code: 'LEADERBOARD_HIDDEN',
    });
    expect((await quizBoard(staff)).items).toHaveLength(1);
    truth.quizFacts.set('q1', { status: 'draft', deleted: false, hideLeaderboard: false });
    service.forgetQuiz('q1');
    await expect(quizBoard(student('a'))).rejects.toMatchObject({ status: 404 });
    truth.quizFacts.set('q1', { status: 'published', deleted: true, hideLeaderboard: false });
    service.forgetQuiz('q1');
    await expect(quizBoard(staff)).rejects.toMatchObject({ status: 404 });
    await expect(
      service.view(staff, { kind: 'challenge', id: 'gone' }, { limit: 5 }),
    ).rejects.toMatchObject({ status: 404, code: 'CHALLENGE_NOT_FOUND' });
  });

  it('comes back identical after the store is emptied and rebuilt, and repairs drift', async () => {
    for (let index = 0; index < 40; index++) {
      const id = `u${String(index).padStart(2, '0')}`;
      truth.student(id);
      truth.quiz('q1', id, index % 7, 1_000 * (index % 3));
      if (index % 2 === 0)
        truth.challenge('c1', id, (index * 13) % 101, index % 4 === 0 ? at(index) : null);
    }
    // A user whose quiz was deleted: on no board at all after a rebuild.
    truth.student('gone');
    truth.quiz('q-deleted', 'gone', 10, 1);
    truth.quizFacts.set('q-deleted', {
      status: 'published',
      deleted: true,
      hideLeaderboard: false,
    });
    await syncAll(...truth.users.keys());
    const snapshot = async () => ({
      quiz: await quizBoard(staff, 100),
      challenge: await service.view(staff, { kind: 'challenge', id: 'c1' }, { limit: 100 }),
      global: await service.view(staff, { kind: 'global' }, { limit: 100 }),
      me: await quizBoard(student('u05'), 1),
    });
    const before = await snapshot();
    expect(before.quiz.total).toBe(40);
    expect(before.challenge.total).toBe(20);

    await wipe();
    service.changed(['quiz:q1', 'challenge:c1', 'global']);
    // (The SQL store's in-memory copy notices within its revalidation interval.)
    await expect.poll(async () => (await quizBoard(staff)).total).toBe(0);
    const rebuilt = await service.rebuild();
    expect(rebuilt).toMatchObject({ entries: 100, repairedBoards: 3, writes: 100 });
    expect(await snapshot()).toEqual(before);

    // Drift: a lost event left an old score; a stranger who is not in the truth.
    await store.write([
      {
        board: 'quiz:q1',
        put: [{ userId: 'u06', name: 'Student u06', key: 1, score: 0, details: {} }],
      },
      { board: 'global', put: [{ userId: 'ghost', name: 'Ghost', key: 5, score: 5, details: {} }] },
    ]);
    const repaired = await service.rebuild();
    expect(repaired).toMatchObject({ repairedBoards: 2, writes: 2 });
    expect(await snapshot()).toEqual(before);
    expect((await service.rebuild()).writes).toBe(0);
  });
});
