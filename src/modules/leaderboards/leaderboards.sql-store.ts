import { and, eq, inArray, isNotNull, isNull, lt, sql } from 'drizzle-orm';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Database } from '../../platform/db/database.ts';
import {
  type BoardEntry,
  compareEntries,
  type EntryDetails,
  rankPage,
} from './leaderboards.models.ts';
import type { BoardStore } from './leaderboards.store.ts';
import { leaderboardBoards, leaderboardEntries } from './leaderboards.tables.ts';

/**
 * Boards in SQL, read from an in-memory copy per board. A rank by `count(*)` per lookup costs a
 * scan of everything above the user, and collapses under concurrency; the copy answers a rank
 * with a binary search instead. Writes go to the database first (the board's version bumped
 * in the same transaction), then to this process's copy. A copy is revalidated against the
 * version at most every REVALIDATE_MS and fetches only rows written since (removals stay as
 * rows without a key for a while, so copies elsewhere see them too): other processes on the
 * same database see a change within that bound.
 */
const REVALIDATE_MS = 250;
/** A copy unread for this long is reloaded whole (tombstones older than an hour are pruned). */
const FULL_RELOAD_AFTER_MS = 5 * 60_000;
/** Boards kept in memory; the least recently read goes first. */
const MAX_COPIES = 32;
/** Rows per INSERT statement. */
const CHUNK = 500;

type Copy = {
  version: number;
  /** Board order: key desc, user id desc. */
  sorted: BoardEntry[];
  byUser: Map<string, BoardEntry>;
  checkedAt: number;
  refreshing?: Promise<void>;
  /** A write landed while a refresh was reading: that refresh's rows may predate it. */
  dirty: boolean;
};

type Row = {
  user_id: string | null;
  sort_key: number | null;
  score: number;
  name: string;
  details: EntryDetails;
};

/** First index whose entry comes at or after `probe` in board order. */
function positionOf(sorted: readonly BoardEntry[], probe: { key: number; userId: string }) {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareEntries(sorted[middle]!, probe) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** How many entries have a key strictly above `key`. */
function countAbove(sorted: readonly BoardEntry[], key: number) {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (sorted[middle]!.key > key) low = middle + 1;
    else high = middle;
  }
  return low;
}

function removeFrom(copy: Copy, userId: string) {
  const old = copy.byUser.get(userId);
  if (!old) return;
  copy.byUser.delete(userId);
  const index = positionOf(copy.sorted, old);
  if (copy.sorted[index]?.userId === userId) copy.sorted.splice(index, 1);
}

function putInto(copy: Copy, entry: BoardEntry) {
  removeFrom(copy, entry.userId);
  copy.byUser.set(entry.userId, entry);
  copy.sorted.splice(positionOf(copy.sorted, entry), 0, entry);
}

const entryOf = (row: Row & { user_id: string; sort_key: number }): BoardEntry => ({
  userId: row.user_id,
  name: row.name,
  key: Number(row.sort_key),
  score: Number(row.score),
  details: row.details,
});

export function createSqlBoardStore(options: { db: Database; clock: Clock }): BoardStore & {
  /** Deletes the rows of users who left a board before `before` (reconcile calls it). */
  prune(before: Date): Promise<number>;
} {
  const { db } = options;
  const copies = new Map<string, Copy>();

  const refresh = async (board: string, copy: Copy) => {
    const startedAt = performance.now();
    const full = copy.version < 0 || startedAt - copy.checkedAt > FULL_RELOAD_AFTER_MS;
    const since = full ? -1 : copy.version;
    copy.dirty = false;
    // One statement, one snapshot: the version and every row written up to it.
    const result = (await db.execute(sql`
      with current as (
        select ${leaderboardBoards.version} as version from ${leaderboardBoards}
        where ${leaderboardBoards.board} = ${board}
      )
      select current.version as board_version, e.user_id, e.sort_key, e.score, e.name, e.details
      from current left join ${leaderboardEntries} e
        on e.board = ${board} and e.version > ${since} and e.version <= current.version
        ${full ? sql`and e.sort_key is not null` : sql.raw('')}`)) as unknown as {
      rows: Array<Row & { board_version: number | string }>;
    };
    const version = Number(result.rows[0]?.board_version ?? 0);
    // The board went back in time (its rows were deleted and written again): start over.
    // Compared with the version this refresh started from: a write of this process that
    // committed meanwhile has moved `copy.version` past the snapshot, which is not going back
    // (its rows are read by the next refresh, `dirty` makes sure), and a full reload per such
    // race would never catch up under steady writes.
    if (!full && version < since) {
      copy.version = -1;
      return refresh(board, copy);
    }
    if (full) {
      const entries = result.rows.flatMap((row) =>
        row.user_id !== null && row.sort_key !== null
          ? [entryOf(row as Row & { user_id: string; sort_key: number })]
          : [],
      );
      copy.byUser = new Map(entries.map((entry) => [entry.userId, entry]));
      copy.sorted = entries.sort(compareEntries);
      copy.version = version;
    } else {
      for (const row of result.rows) {
        if (row.user_id === null) continue;
        if (row.sort_key === null) removeFrom(copy, row.user_id);
        else putInto(copy, entryOf(row as Row & { user_id: string; sort_key: number }));
      }
    }
    copy.version = version;
    // Read again next time from this snapshot's version: the write's rows come then.
    copy.checkedAt = copy.dirty ? 0 : startedAt;
  };

  const fresh = async (board: string): Promise<Copy> => {
    let copy = copies.get(board);
    if (copy) {
      // Most recently used last, so eviction takes the first.
      copies.delete(board);
      copies.set(board, copy);
    } else {
      copy = { version: -1, sorted: [], byUser: new Map(), checkedAt: 0, dirty: false };
      copies.set(board, copy);
      if (copies.size > MAX_COPIES) copies.delete(copies.keys().next().value as string);
    }
    const current = copy;
    // Twice at most: a write that landed during the first refresh is read by the second.
    for (let round = 0; round < 2; round++) {
      if (performance.now() - current.checkedAt < REVALIDATE_MS) break;
      // Concurrent readers share one refresh.
      current.refreshing ??= refresh(board, current).finally(() => {
        current.refreshing = undefined;
      });
      await current.refreshing;
    }
    return current;
  };

  return {
    kind: 'sql',

    async write(changes) {
      const applied: Array<{ board: string; version: number; change: (typeof changes)[number] }> =
        [];
      await db.transaction(async (tx) => {
        for (const change of changes) {
          const puts = change.put ?? [];
          const removes = change.remove ?? [];
          if (puts.length === 0 && removes.length === 0) continue;
          const [bumped] = await tx
            .insert(leaderboardBoards)
            .values({ board: change.board, version: 1 })
            .onConflictDoUpdate({
              target: leaderboardBoards.board,
              set: { version: sql`${leaderboardBoards.version} + 1` },
            })
            .returning({ version: leaderboardBoards.version });
          const version = Number(bumped!.version);
          const at = options.clock.now();
          for (let start = 0; start < puts.length; start += CHUNK) {
            await tx
              .insert(leaderboardEntries)
              .values(
                puts.slice(start, start + CHUNK).map((entry) => ({
                  board: change.board,
                  userId: entry.userId,
                  sortKey: entry.key,
                  score: entry.score,
                  name: entry.name,
                  details: entry.details,
                  version,
                  updatedAt: at,
                })),
              )
              .onConflictDoUpdate({
                target: [leaderboardEntries.board, leaderboardEntries.userId],
                set: {
                  sortKey: sql`excluded.sort_key`,
                  score: sql`excluded.score`,
                  name: sql`excluded.name`,
                  details: sql`excluded.details`,
                  version: sql`excluded.version`,
                  updatedAt: sql`excluded.updated_at`,
                },
              });
          }
          for (let start = 0; start < removes.length; start += CHUNK) {
            await tx
              .update(leaderboardEntries)
              .set({ sortKey: null, version, updatedAt: at })
              .where(
                and(
                  eq(leaderboardEntries.board, change.board),
                  inArray(leaderboardEntries.userId, removes.slice(start, start + CHUNK)),
                  isNotNull(leaderboardEntries.sortKey),
                ),
              );
          }
          applied.push({ board: change.board, version, change });
        }
      });
      // Committed: this process's copies follow at once.
      for (const { board, version, change } of applied) {
        const copy = copies.get(board);
        if (!copy) continue;
        if (copy.refreshing) copy.dirty = true;
        if (copy.version < 0) continue;
        for (const userId of change.remove ?? []) removeFrom(copy, userId);
        for (const entry of change.put ?? []) putInto(copy, entry);
        // Another process wrote in between: fetch its rows at the next read (ours again too).
        if (version === copy.version + 1) copy.version = version;
        else copy.checkedAt = 0;
      }
    },

    async page(board, range) {
      const copy = await fresh(board);
      const page = copy.sorted.slice(range.offset, range.offset + range.limit);
      const first = page[0];
      return {
        items: rankPage(page, range.offset, first ? countAbove(copy.sorted, first.key) : 0),
        total: copy.sorted.length,
      };
    },

    async rankOf(board, userId) {
      const copy = await fresh(board);
      const entry = copy.byUser.get(userId);
      return entry ? { ...entry, rank: countAbove(copy.sorted, entry.key) + 1 } : undefined;
    },

    async entriesOf(userId, boards) {
      if (boards.length === 0) return new Map();
      const rows = await db
        .select()
        .from(leaderboardEntries)
        .where(
          and(
            eq(leaderboardEntries.userId, userId),
            inArray(leaderboardEntries.board, [...boards]),
            isNotNull(leaderboardEntries.sortKey),
          ),
        );
      return new Map(
        rows.map((row) => [
          row.board,
          {
            userId: row.userId,
            name: row.name,
            key: Number(row.sortKey),
            score: Number(row.score),
            details: row.details,
          },
        ]),
      );
    },

    async all(board) {
      const rows = await db
        .select()
        .from(leaderboardEntries)
        .where(and(eq(leaderboardEntries.board, board), isNotNull(leaderboardEntries.sortKey)));
      return rows.map((row) => ({
        userId: row.userId,
        name: row.name,
        key: Number(row.sortKey),
        score: Number(row.score),
        details: row.details,
      }));
    },

    async boards() {
      const rows = await db.select({ board: leaderboardBoards.board }).from(leaderboardBoards);
      return rows.map((row) => row.board);
    },

    async prune(before) {
      const rows = await db
        .delete(leaderboardEntries)
        .where(and(isNull(leaderboardEntries.sortKey), lt(leaderboardEntries.updatedAt, before)))
        .returning({ board: leaderboardEntries.board });
      return rows.length;
    },

    async close() {
      copies.clear();
    },
  };
}
