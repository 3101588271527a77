import type { BoardEntry, RankedEntry } from './leaderboards.models.ts';

/** Changes to one board: entries to add or replace, users to take off. */
export type BoardWrite = { board: string; put?: readonly BoardEntry[]; remove?: readonly string[] };

/**
 * Where boards live: Redis sorted sets when REDIS_URL is set, SQL otherwise. Both order a board
 * by the entry's sort key (desc), then user id (desc), and rank it with competition ranks; the
 * same contract suite runs against both (test/leaderboards.store.contract.test.ts). A store is
 * a cache of the database's truth: it can be emptied and rebuilt at any time.
 */
export interface BoardStore {
  readonly kind: 'redis' | 'sql';
  write(changes: readonly BoardWrite[]): Promise<void>;
  /** A page in board order, each entry with its rank, and how many entries the board has. */
  page(board: string, range: { offset: number; limit: number }): Promise<BoardPage>;
  /** One user's entry with its rank, or undefined if the user is not on the board. */
  rankOf(board: string, userId: string): Promise<RankedEntry | undefined>;
  /** One user's entries on these boards (for writing only what changed). */
  entriesOf(userId: string, boards: readonly string[]): Promise<Map<string, BoardEntry>>;
  /** Every entry of a board, in no particular order (rebuilds compare it with the truth). */
  all(board: string): Promise<BoardEntry[]>;
  /** Every board that has (or recently had) entries. */
  boards(): Promise<string[]>;
  close(): Promise<void>;
}

export type BoardPage = { items: RankedEntry[]; total: number };
