import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import type { BoardEntry } from '../src/modules/leaderboards/leaderboards.models.ts';
import { createRedisBoardStore } from '../src/modules/leaderboards/leaderboards.redis-store.ts';
import { createSqlBoardStore } from '../src/modules/leaderboards/leaderboards.sql-store.ts';
import type { BoardStore } from '../src/modules/leaderboards/leaderboards.store.ts';
import { createTestClock } from '../src/platform/clock/clock.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import { testRedis } from './support/backends.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.ts';

/**
 * One contract, every store: SQL on each database the run has, Redis sorted sets when
 * REDIS_URL is set. A board is ordered by key (desc), then user id (desc), and ranked with
 * competition ranks.
 */
const logger = createLogger({ level: 'silent' });
const kinds = [
  ...databaseKinds().map((kind) => `sql on ${kind}` as const),
  ...(inject('redis') ? (['redis'] as const) : []),
];

const entry = (userId: string, key: number, score = key): BoardEntry => ({
  userId,
  name: `Name ${userId}`,
  key,
  score,
  details: { maxScore: 10, completedAt: '2026-01-01T00:00:00.000Z', note: null },
});

describe.each(kinds)('board store: %s', (kind) => {
  const databases: TestDatabase[] = [];
  const stores: BoardStore[] = [];
  let store: BoardStore;
  let board = '';
  let counter = 0;

  const open = async (): Promise<BoardStore> => {
    if (kind === 'redis') {
      const redis = testRedis(logger);
      const made = createRedisBoardStore({ redis: redis.connect(), prefix: redis.prefix });
      stores.push(made);
      return made;
    }
    const database = await createTestDatabase(kind === 'sql on postgres' ? 'postgres' : 'pglite');
    databases.push(database);
    const made = createSqlBoardStore({ db: database.db, clock: createTestClock() });
    stores.push(made);
    return made;
  };

  beforeEach(async () => {
    store ??= await open();
    counter += 1;
    board = `quiz:contract-${counter}`;
  });
  afterAll(async () => {
    for (const made of stores) await made.close();
    for (const database of databases) await database.destroy();
  });

  it('ranks ties together (1, 2, 2, 4) and orders equal keys by user id, descending', async () => {
    await store.write([
      { board, put: [entry('u-a', 50), entry('u-b', 70), entry('u-c', 70), entry('u-d', 90)] },
    ]);
    const { items, total } = await store.page(board, { offset: 0, limit: 10 });
    expect(total).toBe(4);
    expect(items.map((item) => [item.rank, item.userId])).toEqual([
      [1, 'u-d'],
      [2, 'u-c'],
      [2, 'u-b'],
      [4, 'u-a'],
    ]);
    expect(items[0]).toEqual({ ...entry('u-d', 90), rank: 1 });
  });

  it('ranks a page that starts inside a tie as the whole board does', async () => {
    await store.write([
      {
        board,
        put: [entry('u-1', 9), entry('u-2', 7), entry('u-3', 7), entry('u-4', 7), entry('u-5', 3)],
      },
    ]);
    const second = await store.page(board, { offset: 2, limit: 2 });
    expect(second.items.map((item) => [item.rank, item.userId])).toEqual([
      [2, 'u-3'],
      [2, 'u-2'],
    ]);
    const last = await store.page(board, { offset: 4, limit: 2 });
    expect(last.items.map((item) => [item.rank, item.userId])).toEqual([[5, 'u-5']]);
    expect((await store.page(board, { offset: 10, limit: 2 })).items).toEqual([]);
  });

  it("gives a user's rank and entry outside any page, and nothing for someone not on it", async () => {
    await store.write([
      { board, put: Array.from({ length: 30 }, (_, index) => entry(`u-${index}`, 1_000 - index)) },
    ]);
    expect(await store.rankOf(board, 'u-25')).toEqual({ ...entry('u-25', 975), rank: 26 });
    expect(await store.rankOf(board, 'nobody')).toBeUndefined();
    expect(await store.rankOf('quiz:no-such-board', 'u-1')).toBeUndefined();
  });

  it('replaces an entry and takes users off', async () => {
    await store.write([{ board, put: [entry('u-a', 10), entry('u-b', 20), entry('u-c', 30)] }]);
    await store.write([{ board, put: [entry('u-a', 40, 4)], remove: ['u-c'] }]);
    const { items, total } = await store.page(board, { offset: 0, limit: 10 });
    expect(total).toBe(2);
    expect(items.map((item) => [item.rank, item.userId, item.score])).toEqual([
      [1, 'u-a', 4],
      [2, 'u-b', 20],
    ]);
    expect(await store.rankOf(board, 'u-c')).toBeUndefined();
    // Removing someone who is not there changes nothing.
    await store.write([{ board, remove: ['u-c', 'u-z'] }]);
    expect((await store.page(board, { offset: 0, limit: 10 })).total).toBe(2);
  });

  it('serves a first page read again exactly as the board now is, after any write', async () => {
    const top = async (limit = 3) =>
      (await store.page(board, { offset: 0, limit })).items.map((item) => [
        item.rank,
        item.userId,
        item.name,
      ]);
    const totalOf = async () => (await store.page(board, { offset: 0, limit: 3 })).total;
    await store.write([
      { board, put: ['a', 'b', 'c', 'd', 'e'].map((id, index) => entry(id, 50 - index * 10)) },
    ]);
    expect(await top()).toEqual([
      [1, 'a', 'Name a'],
      [2, 'b', 'Name b'],
      [3, 'c', 'Name c'],
    ]);
    // Below the page: the page is unchanged, the total is not (a new member).
    await store.write([{ board, put: [entry('f', 5)] }]);
    expect(await totalOf()).toBe(6);
    // An entry moving into the page, one tying its last key, a renamed entry on it.
    await store.write([{ board, put: [entry('d', 45)] }]);
    expect((await top()).map((row) => row[1])).toEqual(['a', 'd', 'b']);
    await store.write([{ board, put: [entry('e', 40)] }]);
    expect(await top(4)).toEqual([
      [1, 'a', 'Name a'],
      [2, 'd', 'Name d'],
      [3, 'e', 'Name e'],
      [3, 'b', 'Name b'],
    ]);
    await store.write([{ board, put: [{ ...entry('b', 40), name: 'Renamed' }] }]);
    expect(await top(4)).toEqual([
      [1, 'a', 'Name a'],
      [2, 'd', 'Name d'],
      [3, 'e', 'Name e'],
      [3, 'b', 'Renamed'],
    ]);
    // An entry falling out of the page, and a removal.
    await store.write([{ board, put: [entry('a', 1)] }]);
    expect((await top()).map((row) => row[1])).toEqual(['d', 'e', 'b']);
    await store.write([{ board, remove: ['d'] }]);
    expect(await top()).toEqual([
      [1, 'e', 'Name e'],
      [1, 'b', 'Renamed'],
      [3, 'c', 'Name c'],
    ]);
    expect(await totalOf()).toBe(5);
    // A page longer than the board holds all of it: any new member changes it.
    await store.write([{ board, put: [entry('g', 0)] }]);
    expect((await store.page(board, { offset: 0, limit: 50 })).items.at(-1)?.userId).toBe('g');
    await store.write([{ board, put: [entry('h', -1)] }]);
    expect((await store.page(board, { offset: 0, limit: 50 })).items.at(-1)?.userId).toBe('h');
  });

  it("reads one user's entries across boards, every entry of a board, and the boards there are", async () => {
    const other = `${board}-other`;
    await store.write([
      { board, put: [entry('u-a', 1), entry('u-b', 2)] },
      { board: other, put: [entry('u-a', 5)] },
    ]);
    const mine = await store.entriesOf('u-a', [board, other, 'quiz:none']);
    expect([...mine.keys()].sort()).toEqual([board, other].sort());
    expect(mine.get(other)).toEqual(entry('u-a', 5));
    const all = await store.all(board);
    expect(all.sort((a, b) => a.key - b.key)).toEqual([entry('u-a', 1), entry('u-b', 2)]);
    expect(await store.boards()).toEqual(expect.arrayContaining([board, other]));
  });

  it('keeps keys up to 2^53 exact', async () => {
    const big = 2 ** 53 - 1;
    await store.write([{ board, put: [entry('u-a', big), entry('u-b', big - 1)] }]);
    const { items } = await store.page(board, { offset: 0, limit: 2 });
    expect(items.map((item) => [item.rank, item.key])).toEqual([
      [1, big],
      [2, big - 1],
    ]);
  });

  it('writes a big board in pieces', async () => {
    const many = Array.from({ length: 2_345 }, (_, index) => entry(`u-${index}`, index % 100));
    await store.write([{ board, put: many }]);
    expect((await store.page(board, { offset: 0, limit: 1 })).total).toBe(2_345);
    // 24 entries per key 0…44 and 23 for 45…99: the 99s are first, the 0s last.
    expect((await store.rankOf(board, 'u-0'))?.rank).toBe(2_345 - 24 + 1);
    await store.write([{ board, remove: many.map((item) => item.userId) }]);
    expect((await store.page(board, { offset: 0, limit: 1 })).total).toBe(0);
  });
});

describe.runIf(databaseKinds().includes('postgres'))('SQL store in two processes', () => {
  it("sees the other process's writes within its revalidation interval", async () => {
    const database = await createTestDatabase('postgres');
    try {
      const clock = createTestClock();
      const one = createSqlBoardStore({ db: database.db, clock });
      const two = createSqlBoardStore({ db: database.db, clock });
      await one.write([{ board: 'global', put: [entry('u-a', 5)] }]);
      expect((await two.rankOf('global', 'u-a'))?.rank).toBe(1);
      await one.write([{ board: 'global', put: [entry('u-b', 9)], remove: [] }]);
      await two.write([{ board: 'global', put: [entry('u-c', 7)] }]);
      await one.write([{ board: 'global', remove: ['u-a'] }]);
      for (const store of [one, two])
        await expect
          .poll(async () =>
            (await store.page('global', { offset: 0, limit: 5 })).items.map((item) => item.userId),
          )
          .toEqual(['u-b', 'u-c']);
    } finally {
      await database.destroy();
    }
  });
});
