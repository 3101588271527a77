import { z } from 'zod';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Principal } from '../../platform/http/access.ts';
import { decodeCursor, encodeCursor } from '../../platform/http/pagination.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import type { AttemptBest } from '../attempts/attempts.service.ts';
import { challengeNotFound } from '../challenges/challenges.errors.ts';
import { quizNotFound } from '../quizzes/quizzes.service.ts';
import type { SubmissionBest } from '../submissions/submissions.service.ts';
import { leaderboardHidden } from './leaderboards.errors.ts';
import {
  type BoardEntry,
  type BoardRef,
  boardKey,
  entriesOfUser,
  type QuizFacts,
  type RankedEntry,
  sameEntry,
  type UserFacts,
} from './leaderboards.models.ts';
import type { BoardStore, BoardWrite } from './leaderboards.store.ts';

/** Published after a board changed: streams and caches in every process follow. */
export type LeaderboardChange = { boards: string[] };

/** What leaderboards read of other modules, through their services. */
export type LeaderboardSources = {
  bestQuizResults(filter: {
    userId?: string;
    after?: { quizId: string; userId: string };
    limit: number;
  }): Promise<AttemptBest[]>;
  bestChallengeResults(filter: {
    userId?: string;
    after?: { challengeId: string; userId: string };
    limit: number;
  }): Promise<SubmissionBest[]>;
  quizFacts(ids: readonly string[]): Promise<Map<string, QuizFacts>>;
  liveChallenges(ids: readonly string[]): Promise<Set<string>>;
  users(ids: readonly string[]): Promise<Map<string, UserFacts>>;
};

/** Cached reads live this long at most, even if an invalidation is lost (a Redis outage). */
const CACHE_MS = 1_000;
const MAX_CACHED = 20_000;
/** Rows per page when a rebuild reads every result, and ids per lookup. */
const READ_PAGE = 5_000;
const LOOKUP_CHUNK = 1_000;
/** Users who left a board are kept this long in the SQL store, then pruned. */
const LEFT_RETENTION_MS = 60 * 60_000;

/**
 * Loads by key, kept for CACHE_MS and while `version` is the one it was loaded at; concurrent
 * readers share one load, failures are not kept.
 */
function shortCache<T>() {
  const entries = new Map<string, { version: number; until: number; value: Promise<T> }>();
  return {
    get(key: string, version: number, load: () => Promise<T>): Promise<T> {
      const now = performance.now();
      const hit = entries.get(key);
      if (hit && hit.version === version && hit.until > now) return hit.value;
      if (entries.size >= MAX_CACHED) entries.clear();
      const value = load();
      entries.set(key, { version, until: now + CACHE_MS, value });
      value.catch(() => entries.delete(key));
      return value;
    },
    delete: (key: string) => entries.delete(key),
    clear: () => entries.clear(),
  };
}

const cursorSchema = z.object({ offset: z.string().regex(/^\d{1,7}$/) });

const isStaff = (principal: Principal) =>
  principal.role === 'admin' || principal.role === 'instructor';

async function inChunks<T, R>(items: readonly T[], work: (chunk: T[]) => Promise<R[]>) {
  const out: R[] = [];
  for (let start = 0; start < items.length; start += LOOKUP_CHUNK)
    out.push(...(await work(items.slice(start, start + LOOKUP_CHUNK))));
  return out;
}

const num = (value: unknown) => (typeof value === 'number' ? value : Number(value ?? 0));
const text = (value: unknown) => (typeof value === 'string' ? value : '');

/**
 * Entries as clients see them: rank, user, display name, score and the board's own fields,
 * each named here (a stored detail not listed never reaches a client).
 */
const presenters = {
  quiz: (entry: RankedEntry) => ({
    rank: entry.rank,
    userId: entry.userId,
    name: entry.name,
    score: entry.score,
    maxScore: num(entry.details.maxScore),
    percentage: num(entry.details.percentage),
    timeTakenMs: num(entry.details.timeTakenMs),
    completedAt: text(entry.details.completedAt),
  }),
  challenge: (entry: RankedEntry) => ({
    rank: entry.rank,
    userId: entry.userId,
    name: entry.name,
    score: entry.score,
    maxScore: num(entry.details.maxScore),
    percentage: num(entry.details.percentage),
    fullScoreAt: typeof entry.details.fullScoreAt === 'string' ? entry.details.fullScoreAt : null,
  }),
  global: (entry: RankedEntry) => ({
    rank: entry.rank,
    userId: entry.userId,
    name: entry.name,
    score: entry.score,
    quizzes: num(entry.details.quizzes),
    challenges: num(entry.details.challenges),
  }),
};

type Presenters = typeof presenters;
export type BoardView<K extends keyof Presenters> = {
  board: K;
  items: Array<ReturnType<Presenters[K]>>;
  me?: ReturnType<Presenters[K]>;
  total: number;
  nextCursor: string | null;
};

export function createLeaderboardsService(deps: {
  store: BoardStore & { prune?(before: Date): Promise<number> };
  sources: LeaderboardSources;
  publish: (change: LeaderboardChange) => Promise<void>;
  clock: Clock;
  logger: Logger;
}) {
  const { store, sources } = deps;

  // --- caches (reads) -------------------------------------------------------------------
  /** Bumped when a board changes (here, or in another process through the event bus). */
  const versions = new Map<string, number>();
  const versionOf = (board: string) => versions.get(board) ?? 0;
  const pages = shortCache<{ items: RankedEntry[]; total: number }>();
  const ranks = shortCache<RankedEntry | undefined>();
  const quizFacts = shortCache<QuizFacts | undefined>();
  const liveChallenges = shortCache<boolean>();
  const factsOf = (quizId: string) =>
    quizFacts.get(quizId, 0, () => sources.quizFacts([quizId]).then((found) => found.get(quizId)));
  const challengeLive = (id: string) =>
    liveChallenges.get(id, 0, () => sources.liveChallenges([id]).then((found) => found.has(id)));

  const changed = (boards: Iterable<string>) => {
    for (const board of boards) versions.set(board, versionOf(board) + 1);
    if (versions.size > MAX_CACHED) {
      // Versions start again from 0: nothing cached under the old ones may match them.
      versions.clear();
      pages.clear();
      ranks.clear();
    }
  };

  const announce = async (boards: string[]) => {
    changed(boards);
    // Chunks keep each message small on a rebuild that touched thousands of boards.
    for (let start = 0; start < boards.length; start += 500)
      await deps
        .publish({ boards: boards.slice(start, start + 500) })
        .catch((error: unknown) =>
          deps.logger.warn({ err: error }, 'could not publish leaderboards.changed'),
        );
  };

  /** Writes what differs between the store and the truth, per board. */
  const diff = (
    board: string,
    current: ReadonlyMap<string, BoardEntry>,
    wanted: ReadonlyMap<string, BoardEntry>,
  ): BoardWrite | undefined => {
    const put = [...wanted.values()].filter(
      (entry) => !sameEntry(current.get(entry.userId), entry),
    );
    const remove = [...current.keys()].filter((userId) => !wanted.has(userId));
    return put.length > 0 || remove.length > 0 ? { board, put, remove } : undefined;
  };

  // --- writes (from the truth) ----------------------------------------------------------
  // One sync per user at a time in this process: a slower, older read never lands last.
  const syncing = new Map<string, Promise<unknown>>();

  const syncUserNow = async (userId: string): Promise<string[]> => {
    const [quizzes, challenges, users] = await Promise.all([
      sources.bestQuizResults({ userId, limit: 100_000 }),
      sources.bestChallengeResults({ userId, limit: 100_000 }),
      sources.users([userId]),
    ]);
    const [quizFacts, liveChallenges] = await Promise.all([
      sources.quizFacts(quizzes.map((best) => best.quizId)),
      sources.liveChallenges(challenges.map((best) => best.challengeId)),
    ]);
    const wanted = entriesOfUser({
      userId,
      user: users.get(userId),
      quizzes,
      challenges,
      quizFacts,
      liveChallenges,
    });
    const current = await store.entriesOf(userId, [...wanted.keys()]);
    const writes: BoardWrite[] = [];
    for (const [board, entry] of wanted) {
      const had = current.get(board);
      if (entry === null) {
        if (had) writes.push({ board, remove: [userId] });
      } else if (!sameEntry(had, entry)) writes.push({ board, put: [entry] });
    }
    if (writes.length === 0) return [];
    await store.write(writes);
    const boards = writes.map((write) => write.board);
    await announce(boards);
    return boards;
  };

  /** Recomputes one user's entries on every board their results touch, from the database. */
  const syncUser = (userId: string): Promise<string[]> => {
    const previous = syncing.get(userId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => syncUserNow(userId));
    syncing.set(userId, next);
    void next
      .catch(() => undefined)
      .then(() => {
        if (syncing.get(userId) === next) syncing.delete(userId);
      });
    return next;
  };

  /** Recomputes every board from the database and repairs what differs; returns what it did. */
  const rebuild = async () => {
    const quizResults = new Map<string, AttemptBest[]>();
    const challengeResults = new Map<string, SubmissionBest[]>();
    for (let after: { quizId: string; userId: string } | undefined; ; ) {
      const page = await sources.bestQuizResults({ limit: READ_PAGE, ...(after ? { after } : {}) });
      for (const best of page) {
        const list = quizResults.get(best.userId) ?? [];
        list.push(best);
        quizResults.set(best.userId, list);
      }
      const last = page.at(-1);
      if (!last || page.length < READ_PAGE) break;
      after = { quizId: last.quizId, userId: last.userId };
    }
    for (let after: { challengeId: string; userId: string } | undefined; ; ) {
      const page = await sources.bestChallengeResults({
        limit: READ_PAGE,
        ...(after ? { after } : {}),
      });
      for (const best of page) {
        const list = challengeResults.get(best.userId) ?? [];
        list.push(best);
        challengeResults.set(best.userId, list);
      }
      const last = page.at(-1);
      if (!last || page.length < READ_PAGE) break;
      after = { challengeId: last.challengeId, userId: last.userId };
    }
    const userIds = [...new Set([...quizResults.keys(), ...challengeResults.keys()])];
    const quizIds = [...new Set([...quizResults.values()].flat().map((best) => best.quizId))];
    const challengeIds = [
      ...new Set([...challengeResults.values()].flat().map((best) => best.challengeId)),
    ];
    const quizFacts = new Map(
      await inChunks(quizIds, async (ids) => [...(await sources.quizFacts(ids)).entries()]),
    );
    const liveChallenges = new Set(
      await inChunks(challengeIds, async (ids) => [...(await sources.liveChallenges(ids))]),
    );
    const users = new Map(
      await inChunks(userIds, async (ids) => [...(await sources.users(ids)).entries()]),
    );

    const wanted = new Map<string, Map<string, BoardEntry>>();
    for (const userId of userIds) {
      const boards = entriesOfUser({
        userId,
        user: users.get(userId),
        quizzes: quizResults.get(userId) ?? [],
        challenges: challengeResults.get(userId) ?? [],
        quizFacts,
        liveChallenges,
      });
      for (const [board, entry] of boards) {
        if (!entry) continue;
        let entries = wanted.get(board);
        if (!entries) {
          entries = new Map();
          wanted.set(board, entries);
        }
        entries.set(userId, entry);
      }
    }

    const boards = [...new Set([...wanted.keys(), ...(await store.boards())])].sort();
    const repaired: string[] = [];
    let writes = 0;
    let entries = 0;
    for (const board of boards) {
      const truth = wanted.get(board) ?? new Map<string, BoardEntry>();
      entries += truth.size;
      const current = new Map((await store.all(board)).map((entry) => [entry.userId, entry]));
      const change = diff(board, current, truth);
      if (!change) continue;
      await store.write([change]);
      writes += (change.put?.length ?? 0) + (change.remove?.length ?? 0);
      repaired.push(board);
    }
    await announce(repaired);
    const pruned = store.prune
      ? await store.prune(new Date(deps.clock.now().getTime() - LEFT_RETENTION_MS))
      : 0;
    return { boards: boards.length, entries, repairedBoards: repaired.length, writes, pruned };
  };

  // --- reads ----------------------------------------------------------------------------
  /** Refuses a board the caller may not see (404 for a quiz or challenge they cannot see). */
  const checkAccess = async (principal: Principal, ref: BoardRef) => {
    if (ref.kind === 'global') return;
    if (ref.kind === 'challenge') {
      if (!(await challengeLive(ref.id))) throw challengeNotFound();
      return;
    }
    const facts = await factsOf(ref.id);
    if (!facts || facts.deleted) throw quizNotFound();
    if (isStaff(principal)) return;
    if (facts.status === 'draft') throw quizNotFound();
    if (facts.hideLeaderboard)
      throw leaderboardHidden('The quiz’s author shows its leaderboard to staff only.');
  };

  const pageOf = (board: string, offset: number, limit: number) =>
    pages.get(`${board}|${offset}|${limit}`, versionOf(board), () =>
      store.page(board, { offset, limit }),
    );

  const rankOf = (board: string, userId: string) =>
    ranks.get(`${board}|${userId}`, versionOf(board), () => store.rankOf(board, userId));

  /** The page and the caller's own entry (when they are on the board), after access checks. */
  const view = async <K extends keyof Presenters>(
    principal: Principal,
    ref: Extract<BoardRef, { kind: K }>,
    input: { limit: number; cursor?: string },
  ): Promise<BoardView<K>> => {
    await checkAccess(principal, ref);
    const offset = Number(decodeCursor(input.cursor, cursorSchema)?.offset ?? 0);
    const board = boardKey(ref);
    const [page, me] = await Promise.all([
      pageOf(board, offset, input.limit),
      // Staff are never ranked: no lookup for them.
      principal.role === 'student' ? rankOf(board, principal.userId) : undefined,
    ]);
    const present = presenters[ref.kind as K] as (entry: RankedEntry) => ReturnType<Presenters[K]>;
    const next = offset + page.items.length;
    return {
      board: ref.kind as K,
      items: page.items.map(present),
      ...(me ? { me: present(me) } : {}),
      total: page.total,
      nextCursor: next < page.total ? encodeCursor({ offset: String(next) }) : null,
    };
  };

  return {
    syncUser,
    rebuild,
    view,
    checkAccess,
    /** A board changed somewhere (the event bus): drop what this process cached of it. */
    changed,
    /** A quiz changed in this process: read its settings again at once. */
    forgetQuiz(quizId: string) {
      quizFacts.delete(quizId);
    },
    store,
  };
}

export type LeaderboardsService = ReturnType<typeof createLeaderboardsService>;
