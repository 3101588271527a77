import { sql } from 'drizzle-orm';
import type { Database } from '../../platform/db/database.ts';
import { submissions } from './submissions.tables.ts';

/**
 * Aggregates over submissions for analytics, computed in the database. Callers decide who may
 * see them.
 */
const rowsOf = <T>(result: unknown) => (result as { rows: T[] }).rows;

export function createSubmissionStatistics(db: Database) {
  return {
    /** Every submission by verdict (`queued` / `running` while not judged yet). */
    async byVerdict(): Promise<Record<string, number>> {
      const rows = rowsOf<{ verdict: string; count: number }>(
        await db.execute(sql`
          select coalesce(verdict, status) as verdict, count(*)::int as count
          from ${submissions} group by 1 order by 1`),
      );
      return Object.fromEntries(rows.map((row) => [row.verdict, Number(row.count)]));
    },

    /** A user's own submissions to challenges (not a quiz's code answers). */
    async userSummary(userId: string) {
      const [row] = rowsOf<Record<string, unknown>>(
        await db.execute(sql`
          select count(*)::int as submissions,
            count(distinct challenge_id)::int as challenges,
            (count(distinct challenge_id) filter (where verdict = 'accepted'))::int as solved
          from ${submissions} where user_id = ${userId} and attempt_id is null`),
      );
      return {
        submissions: Number(row?.submissions ?? 0),
        challengesTried: Number(row?.challenges ?? 0),
        challengesSolved: Number(row?.solved ?? 0),
      };
    },

    /** The local dates (YYYY-MM-DD in `timeZone`, an IANA name) since `since` the user submitted code. */
    async activeDays(userId: string, timeZone: string, since: Date): Promise<string[]> {
      const rows = rowsOf<{ day: string }>(
        await db.execute(sql`
          select distinct to_char(created_at at time zone ${timeZone}, 'YYYY-MM-DD') as day
          from ${submissions}
          where user_id = ${userId} and created_at >= ${since.toISOString()}::timestamptz`),
      );
      return rows.map((row) => row.day);
    },
  };
}

export type SubmissionStatistics = ReturnType<typeof createSubmissionStatistics>;
