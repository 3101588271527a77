/**
 * Pure leaderboard rules: which board an entry belongs to, the one number ("sort key") that
 * orders a board, and competition ranks. Both stores (Redis, SQL) order by the same key, so
 * they rank identically. The rules are written down in leaderboards.spec.md.
 */

export type BoardRef =
  | { kind: 'quiz'; id: string }
  | { kind: 'challenge'; id: string }
  | { kind: 'global' };

/** A board's name in the stores and events: `quiz:<id>`, `challenge:<id>` or `global`. */
export const boardKey = (ref: BoardRef): string =>
  ref.kind === 'global' ? 'global' : `${ref.kind}:${ref.id}`;

export function parseBoardKey(key: string): BoardRef | undefined {
  if (key === 'global') return { kind: 'global' };
  const [kind, ...rest] = key.split(':');
  const id = rest.join(':');
  if (!id) return undefined;
  if (kind === 'quiz' || kind === 'challenge') return { kind, id };
  return undefined;
}

/** What a board shows besides rank, user and name; values are plain JSON. */
export type EntryDetails = Record<string, string | number | null>;

/** One user's entry on one board, as the stores keep it. */
export type BoardEntry = {
  userId: string;
  /** The display name at the time of the last sync (never the email). */
  name: string;
  /** Orders the board: higher is better; equal keys share a rank. An exact integer < 2^53. */
  key: number;
  score: number;
  details: EntryDetails;
};

export type RankedEntry = BoardEntry & { rank: number };

// --- Sort keys ------------------------------------------------------------------------------
// A sorted-set score is a double: integers up to 2^53 are exact. Each board packs its ordering
// keys into one such integer, the primary key in the high bits, the tie-breaker in the low
// bits, so comparing two keys compares (primary, tie-breaker) lexicographically.

/** Quiz: 29 bits of score in thousandths of a point (up to 536,870.911 points). */
const QUIZ_SCORE_UNITS = 1_000;
const QUIZ_SCORE_MAX = 2 ** 29 - 1;
/** Quiz: 24 bits of time taken in tenths of a second (ties at 19.4 days and beyond). */
const QUIZ_TIME_UNIT_MS = 100;
const QUIZ_TIME_MAX = 2 ** 24 - 1;

/** Best score desc, then shorter time taken. */
export function quizSortKey(input: { score: number; timeTakenMs: number }): number {
  const score = clampUnits(input.score * QUIZ_SCORE_UNITS, QUIZ_SCORE_MAX);
  const time = Math.min(
    QUIZ_TIME_MAX,
    Math.max(0, Math.floor(input.timeTakenMs / QUIZ_TIME_UNIT_MS)),
  );
  return score * 2 ** 24 + (QUIZ_TIME_MAX - time);
}

/** Challenge: 21 bits of score in hundredths of a point (points are at most 10,000). */
const CHALLENGE_SCORE_UNITS = 100;
const CHALLENGE_SCORE_MAX = 2 ** 21 - 1;
/** Challenge: 32 bits of "when full marks came first", in seconds since 2020 (until 2156). */
const CHALLENGE_EPOCH_MS = Date.UTC(2020, 0, 1);
const CHALLENGE_TIME_MAX = 2 ** 32 - 1;

/**
 * Best score desc, then earlier first full score. Only full marks carry a time: entries with
 * the same score short of full marks are equal on every key and share a rank.
 */
export function challengeSortKey(input: { score: number; fullScoreAt: Date | null }): number {
  const score = clampUnits(input.score * CHALLENGE_SCORE_UNITS, CHALLENGE_SCORE_MAX);
  if (!input.fullScoreAt) return score * 2 ** 32;
  const seconds = Math.floor((input.fullScoreAt.getTime() - CHALLENGE_EPOCH_MS) / 1000);
  // Full marks always rank above the same score without them (1 … 2^32-1, never 0).
  const tie = CHALLENGE_TIME_MAX - Math.min(CHALLENGE_TIME_MAX - 1, Math.max(0, seconds));
  return score * 2 ** 32 + tie;
}

/** Global: percentages in units of 1e-4 percentage points, summed as integers (exact). */
const GLOBAL_UNITS_PER_FRACTION = 1_000_000;

export const fractionUnits = (fraction: number) =>
  Math.round(Math.min(1, Math.max(0, fraction)) * GLOBAL_UNITS_PER_FRACTION);

/** The global board's key is the sum itself; its score is that sum in percentage points. */
export const globalScoreOf = (units: number) => units / (GLOBAL_UNITS_PER_FRACTION / 100);

function clampUnits(value: number, max: number): number {
  // Rounding first: 0.1 + 0.2 points must not become 299 thousandths.
  return Math.min(max, Math.max(0, Math.round(value)));
}

/** Board order: key desc, then user id desc (as a Redis sorted set reads in reverse). */
export function compareEntries(
  a: { key: number; userId: string },
  b: { key: number; userId: string },
) {
  if (a.key !== b.key) return b.key - a.key;
  return a.userId < b.userId ? 1 : a.userId > b.userId ? -1 : 0;
}

/**
 * Competition ranks (1, 2, 2, 4) for a page in board order starting at `offset`, given its
 * entries' keys and how many entries of the whole board have a key above the page's first one.
 */
export function pageRanks(keys: readonly number[], offset: number, aboveFirst: number): number[] {
  const ranks: number[] = [];
  for (let index = 0; index < keys.length; index++)
    ranks.push(
      index === 0
        ? aboveFirst + 1
        : keys[index - 1] === keys[index]
          ? (ranks[index - 1] as number)
          : offset + index + 1,
    );
  return ranks;
}

/** The page's entries with their competition ranks (see pageRanks). */
export function rankPage<T extends { key: number }>(
  page: readonly T[],
  offset: number,
  aboveFirst: number,
): Array<T & { rank: number }> {
  const ranks = pageRanks(
    page.map((entry) => entry.key),
    offset,
    aboveFirst,
  );
  return page.map((entry, index) => ({ ...entry, rank: ranks[index] as number }));
}

// --- Who is on which board ------------------------------------------------------------------

export type QuizBest = {
  quizId: string;
  score: number;
  maxScore: number;
  timeTakenMs: number;
  submittedAt: Date;
  bestFraction: number;
};

export type ChallengeBest = {
  challengeId: string;
  score: number;
  maxScore: number;
  bestFraction: number;
  fullScoreAt: Date | null;
};

export type QuizFacts = {
  status: 'draft' | 'published' | 'archived';
  deleted: boolean;
  hideLeaderboard: boolean;
};

export type UserFacts = { name: string; role: string; active: boolean };

/** A quiz's results count while it is published or archived and not deleted. */
export const quizCounts = (facts: QuizFacts | undefined) =>
  facts !== undefined && !facts.deleted && facts.status !== 'draft';

/** Only active students are ranked: staff trying a quiz, disabled and deleted accounts are not. */
export const userCounts = (user: UserFacts | undefined) =>
  user?.active === true && user.role === 'student';

const percentage = (score: number, maxScore: number) =>
  maxScore > 0 ? Math.round((score / maxScore) * 10_000) / 100 : 0;

/**
 * Every board one user's results touch, each with the entry the user should have there, or
 * null where the user must not appear (the quiz was deleted, the account disabled, …).
 */
export function entriesOfUser(input: {
  userId: string;
  user: UserFacts | undefined;
  quizzes: readonly QuizBest[];
  challenges: readonly ChallengeBest[];
  quizFacts: ReadonlyMap<string, QuizFacts>;
  liveChallenges: ReadonlySet<string>;
}): Map<string, BoardEntry | null> {
  const boards = new Map<string, BoardEntry | null>();
  const ranked = userCounts(input.user);
  const name = input.user?.name ?? '';
  let units = 0;
  let quizzes = 0;
  let challenges = 0;
  for (const best of input.quizzes) {
    const board = boardKey({ kind: 'quiz', id: best.quizId });
    if (!ranked || !quizCounts(input.quizFacts.get(best.quizId))) {
      boards.set(board, null);
      continue;
    }
    units += fractionUnits(best.bestFraction);
    quizzes += 1;
    boards.set(board, {
      userId: input.userId,
      name,
      key: quizSortKey(best),
      score: best.score,
      details: {
        maxScore: best.maxScore,
        percentage: percentage(best.score, best.maxScore),
        timeTakenMs: best.timeTakenMs,
        completedAt: best.submittedAt.toISOString(),
      },
    });
  }
  for (const best of input.challenges) {
    const board = boardKey({ kind: 'challenge', id: best.challengeId });
    if (!ranked || !input.liveChallenges.has(best.challengeId)) {
      boards.set(board, null);
      continue;
    }
    units += fractionUnits(best.bestFraction);
    challenges += 1;
    boards.set(board, {
      userId: input.userId,
      name,
      key: challengeSortKey(best),
      score: best.score,
      details: {
        maxScore: best.maxScore,
        percentage: percentage(best.score, best.maxScore),
        fullScoreAt: best.fullScoreAt?.toISOString() ?? null,
      },
    });
  }
  boards.set(
    'global',
    ranked && quizzes + challenges > 0
      ? {
          userId: input.userId,
          name,
          key: units,
          score: globalScoreOf(units),
          details: { quizzes, challenges },
        }
      : null,
  );
  return boards;
}

/** Whether two entries would show the same thing (a sync writes only what differs). */
export function sameEntry(a: BoardEntry | undefined, b: BoardEntry | undefined | null): boolean {
  if (!a || !b) return !a && !b;
  if (a.userId !== b.userId || a.name !== b.name || a.key !== b.key || a.score !== b.score)
    return false;
  const keys = new Set([...Object.keys(a.details), ...Object.keys(b.details)]);
  for (const key of keys) if (a.details[key] !== b.details[key]) return false;
  return true;
}
