import { sql } from 'drizzle-orm';
import {
  bigint,
  doublePrecision,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type { EntryDetails } from './leaderboards.models.ts';

/**
 * The SQL store of boards (when Redis is not configured). Like the Redis one it is a cache of
 * the truth (attempts, submissions), rebuilt by `assay leaderboards rebuild`.
 */
export const leaderboardBoards = pgTable('leaderboard_boards', {
  board: text('board').primaryKey(),
  /**
   * Bumped by every write to the board, in the write's transaction (the row lock makes versions
   * follow commit order): a process's in-memory copy of the board fetches what is newer.
   */
  version: bigint('version', { mode: 'number' }).notNull().default(0),
});

export const leaderboardEntries = pgTable(
  'leaderboard_entries',
  {
    board: text('board').notNull(),
    userId: text('user_id').notNull(),
    /** Orders the board (see leaderboards.models.ts). Null: the user left the board; the row
     * stays a while so other processes' copies learn it. */
    sortKey: doublePrecision('sort_key'),
    score: doublePrecision('score').notNull(),
    name: text('name').notNull(),
    details: jsonb('details').$type<EntryDetails>().notNull(),
    /** The board's version that wrote this row. */
    version: bigint('version', { mode: 'number' }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.board, table.userId] }),
    index('leaderboard_entries_version_idx').on(table.board, table.version),
    index('leaderboard_entries_user_idx').on(table.userId),
    index('leaderboard_entries_left_idx').on(table.updatedAt).where(sql`${table.sortKey} is null`),
  ],
);
