import { and, count, eq, inArray, lt, sql } from 'drizzle-orm';
import type { Database, Executor, Transaction } from '../../platform/db/database.ts';
import { STATUS } from './judge0.models.ts';
import {
  type Judge0SubmissionInsert,
  type Judge0SubmissionRow,
  judge0Submissions,
} from './judge0.tables.ts';

/** The result columns a finished run writes, all at once. */
export type Judge0Result = Pick<
  Judge0SubmissionInsert,
  | 'statusId'
  | 'stdout'
  | 'stderr'
  | 'compileOutput'
  | 'message'
  | 'exitCode'
  | 'exitSignal'
  | 'timeMs'
  | 'wallTimeMs'
  | 'memoryKb'
  | 'finishedAt'
>;

export function createJudge0Repository(db: Database) {
  return {
    transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
      return db.transaction(work);
    },

    /** The plain connection, for an insert outside a transaction. */
    executor: db as Executor,

    async insert(
      executor: Executor,
      rows: Judge0SubmissionInsert[],
    ): Promise<Judge0SubmissionRow[]> {
      if (rows.length === 0) return [];
      return executor.insert(judge0Submissions).values(rows).returning();
    },

    /** Only the owner's: another caller's token reads as missing. */
    async find(owner: string, token: string): Promise<Judge0SubmissionRow | undefined> {
      const [row] = await db
        .select()
        .from(judge0Submissions)
        .where(and(eq(judge0Submissions.token, token), eq(judge0Submissions.owner, owner)));
      return row;
    },

    async findMany(owner: string, tokens: readonly string[]): Promise<Judge0SubmissionRow[]> {
      if (tokens.length === 0) return [];
      return db
        .select()
        .from(judge0Submissions)
        .where(
          and(inArray(judge0Submissions.token, [...tokens]), eq(judge0Submissions.owner, owner)),
        );
    },

    async pending(): Promise<number> {
      const [row] = await db
        .select({ n: count() })
        .from(judge0Submissions)
        .where(lt(judge0Submissions.statusId, STATUS.accepted));
      return row?.n ?? 0;
    },

    /**
     * Moves an unfinished submission to Processing and returns it; a finished one is left alone
     * (undefined), so a job delivered twice runs the program once. Processing is claimable too:
     * the job ledger only hands the job to a second worker when the first one's lease is gone.
     */
    async claim(token: string, startedAt: Date): Promise<Judge0SubmissionRow | undefined> {
      const [row] = await db
        .update(judge0Submissions)
        .set({ statusId: STATUS.processing, startedAt })
        .where(
          and(eq(judge0Submissions.token, token), lt(judge0Submissions.statusId, STATUS.accepted)),
        )
        .returning();
      return row;
    },

    /** An unfinished submission (queued or processing) gets this outcome; a finished one keeps its own. */
    async abandon(token: string, result: Judge0Result): Promise<boolean> {
      const rows = await db
        .update(judge0Submissions)
        .set(result)
        .where(
          and(eq(judge0Submissions.token, token), lt(judge0Submissions.statusId, STATUS.accepted)),
        )
        .returning({ token: judge0Submissions.token });
      return rows.length === 1;
    },

    /**
     * Deletes finished submissions that finished (or, without a finish time, were created)
     * before `before`, `batch` rows per statement so no delete holds many locks; returns how many.
     */
    async pruneFinished(before: Date, batch = 5_000): Promise<number> {
      let removed = 0;
      for (;;) {
        const rows = await db
          .delete(judge0Submissions)
          .where(
            inArray(
              judge0Submissions.token,
              db
                .select({ token: judge0Submissions.token })
                .from(judge0Submissions)
                .where(
                  and(
                    // A literal, so the planner sees the finished-submissions index applies.
                    sql`${judge0Submissions.statusId} >= ${sql.raw(String(STATUS.accepted))}`,
                    sql`coalesce(${judge0Submissions.finishedAt}, ${judge0Submissions.createdAt}) < ${before.toISOString()}::timestamptz`,
                  ),
                )
                .limit(batch),
            ),
          )
          .returning({ token: judge0Submissions.token });
        removed += rows.length;
        if (rows.length < batch) return removed;
      }
    },

    /** Writes the outcome unless someone else already did. */
    async finish(executor: Executor, token: string, result: Judge0Result): Promise<boolean> {
      const rows = await executor
        .update(judge0Submissions)
        .set(result)
        .where(
          and(
            eq(judge0Submissions.token, token),
            eq(judge0Submissions.statusId, STATUS.processing),
          ),
        )
        .returning({ token: judge0Submissions.token });
      return rows.length === 1;
    },
  };
}

export type Judge0Repository = ReturnType<typeof createJudge0Repository>;
