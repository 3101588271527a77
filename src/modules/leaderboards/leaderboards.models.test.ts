import { describe, expect, it } from 'vitest';
import {
  boardKey,
  challengeSortKey,
  compareEntries,
  entriesOfUser,
  globalScoreOf,
  parseBoardKey,
  quizSortKey,
  rankPage,
} from './leaderboards.models.ts';

describe('sort keys', () => {
  it('orders a quiz by score, then by shorter time', () => {
    const fast = quizSortKey({ score: 8, timeTakenMs: 60_000 });
    const slow = quizSortKey({ score: 8, timeTakenMs: 90_000 });
    const better = quizSortKey({ score: 8.001, timeTakenMs: 10 * 86_400_000 });
    expect(fast).toBeGreaterThan(slow);
    expect(better).toBeGreaterThan(fast);
    // Equal on both keys (tenths of a second): equal keys, so a shared rank.
    expect(quizSortKey({ score: 8, timeTakenMs: 60_040 })).toBe(
      quizSortKey({ score: 8, timeTakenMs: 60_090 }),
    );
  });

  it('stays an exact integer at the largest quiz (500 questions of 1,000 points)', () => {
    const top = quizSortKey({ score: 500_000, timeTakenMs: 0 });
    expect(Number.isSafeInteger(top)).toBe(true);
    expect(top).toBeGreaterThan(quizSortKey({ score: 499_999.999, timeTakenMs: 0 }));
    expect(quizSortKey({ score: 0.1 + 0.2, timeTakenMs: 0 })).toBe(
      quizSortKey({ score: 0.3, timeTakenMs: 0 }),
    );
  });

  it('orders a challenge by score, then by the earlier first full score', () => {
    const early = challengeSortKey({ score: 100, fullScoreAt: new Date('2026-01-01T10:00:00Z') });
    const late = challengeSortKey({ score: 100, fullScoreAt: new Date('2026-01-01T10:00:05Z') });
    const partial = challengeSortKey({ score: 99.99, fullScoreAt: null });
    expect(early).toBeGreaterThan(late);
    expect(late).toBeGreaterThan(partial);
    expect(
      Number.isSafeInteger(challengeSortKey({ score: 10_000, fullScoreAt: new Date(0) })),
    ).toBe(true);
    // Short of full marks, equal scores are equal on every key.
    expect(challengeSortKey({ score: 50, fullScoreAt: null })).toBe(
      challengeSortKey({ score: 50, fullScoreAt: null }),
    );
  });
});

describe('ranks', () => {
  it('gives entries with equal keys the same competition rank (1, 2, 2, 4)', () => {
    const page = [{ key: 9 }, { key: 7 }, { key: 7 }, { key: 3 }];
    expect(rankPage(page, 0, 0).map((entry) => entry.rank)).toEqual([1, 2, 2, 4]);
  });

  it('continues a tie from the page before', () => {
    // Board 9, 7, 7, 7, 3: the second page starts inside the tie.
    const page = [{ key: 7 }, { key: 7 }, { key: 3 }];
    expect(rankPage(page, 2, 1).map((entry) => entry.rank)).toEqual([2, 2, 5]);
  });

  it('orders equal keys by user id, descending', () => {
    const sorted = [
      { key: 1, userId: 'a' },
      { key: 2, userId: 'b' },
      { key: 1, userId: 'c' },
    ].sort(compareEntries);
    expect(sorted.map((entry) => entry.userId)).toEqual(['b', 'c', 'a']);
  });
});

describe('board keys', () => {
  it('round-trips', () => {
    for (const ref of [
      { kind: 'quiz', id: 'q-1' },
      { kind: 'challenge', id: 'c:2' },
      { kind: 'global' },
    ] as const)
      expect(parseBoardKey(boardKey(ref))).toEqual(ref);
    expect(parseBoardKey('quiz:')).toBeUndefined();
    expect(parseBoardKey('nope:1')).toBeUndefined();
  });
});

describe('entries of a user', () => {
  const published = { status: 'published', deleted: false, hideLeaderboard: false } as const;
  const base = {
    userId: 'u1',
    user: { name: 'Ada', role: 'student', active: true },
    quizzes: [
      {
        quizId: 'q1',
        score: 6,
        maxScore: 8,
        timeTakenMs: 1_000,
        submittedAt: new Date('2026-01-01T00:00:00Z'),
        bestFraction: 0.75,
      },
      {
        quizId: 'q2',
        score: 1,
        maxScore: 2,
        timeTakenMs: 1_000,
        submittedAt: new Date('2026-01-01T00:00:00Z'),
        bestFraction: 0.5,
      },
    ],
    challenges: [
      { challengeId: 'c1', score: 100, maxScore: 100, bestFraction: 1, fullScoreAt: null },
    ],
    quizFacts: new Map([
      ['q1', published],
      ['q2', { ...published, deleted: true }],
    ]),
    liveChallenges: new Set(['c1']),
  };

  it('sums best percentages of the quizzes and challenges that count into the global board', () => {
    const boards = entriesOfUser(base);
    expect(boards.get('quiz:q1')).toMatchObject({ score: 6, details: { percentage: 75 } });
    // A deleted quiz counts nowhere, and its board loses the user.
    expect(boards.get('quiz:q2')).toBeNull();
    expect(boards.get('challenge:c1')).toMatchObject({ score: 100 });
    const global = boards.get('global');
    expect(global?.score).toBe(175);
    expect(globalScoreOf(global?.key ?? 0)).toBe(175);
    expect(global?.details).toEqual({ quizzes: 1, challenges: 1 });
  });

  it('takes staff and disabled accounts off every board', () => {
    for (const user of [
      { name: 'Ada', role: 'instructor', active: true },
      { name: 'Ada', role: 'student', active: false },
      undefined,
    ]) {
      const boards = entriesOfUser({ ...base, user });
      expect([...boards.values()].every((entry) => entry === null)).toBe(true);
      expect([...boards.keys()].sort()).toEqual(['challenge:c1', 'global', 'quiz:q1', 'quiz:q2']);
    }
  });
});
