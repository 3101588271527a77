import { and, desc, eq, inArray, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Database, Executor, Transaction } from '../../platform/db/database.ts';
import type { Feedback } from './submissions.feedback.ts';
import type { SubmissionVerdict, TestOutcome } from './submissions.models.ts';
import { type SubmissionInsert, type SubmissionRow, submissions } from './submissions.tables.ts';

export type SubmissionFilter = {
  userId?: string;
  challengeId?: string;
  /** Only submissions to these challenges (an instructor's own). */
  challengeIds?: readonly string[];
  before?: { createdAt: Date; id: string };
};

/** A user's best at a challenge (see `bestResults`). */
export type SubmissionBest = {
  challengeId: string;
  userId: string;
  score: number;
  maxScore: number;
  /** The best score / maxScore of any judged submission (0 when maxScore is 0). */
  bestFraction: number;
  /** The time of the first submission with full marks; null if none has them. */
  fullScoreAt: Date | null;
};

export type JudgedColumns = {
  status: 'completed' | 'failed';
  verdict: SubmissionVerdict;
  score: number;
  tests: TestOutcome[];
  compileOutput: string | null;
  feedback: Feedback | null;
  finishedAt: Date;
};

export function createSubmissionsRepository(db: Database) {
  return {
    async insert(executor: Executor, row: SubmissionInsert): Promise<SubmissionRow> {
      const [inserted] = await executor.insert(submissions).values(row).returning();
      return inserted!;
    },

    async find(id: string): Promise<SubmissionRow | undefined> {
      const [row] = await db.select().from(submissions).where(eq(submissions.id, id));
      return row;
    },

    async list(filter: SubmissionFilter, limit: number): Promise<SubmissionRow[]> {
      const conditions: SQL[] = [];
      if (filter.userId) conditions.push(eq(submissions.userId, filter.userId));
      if (filter.challengeId) conditions.push(eq(submissions.challengeId, filter.challengeId));
      if (filter.challengeIds) {
        if (filter.challengeIds.length === 0) return [];
        conditions.push(inArray(submissions.challengeId, [...filter.challengeIds]));
      }
      if (filter.before) {
        const { createdAt, id } = filter.before;
        conditions.push(
          or(
            lt(submissions.createdAt, createdAt),
            and(eq(submissions.createdAt, createdAt), lt(submissions.id, id)),
          )!,
        );
      }
      return db
        .select()
        .from(submissions)
        .where(and(...conditions))
        .orderBy(desc(submissions.createdAt), desc(submissions.id))
        .limit(limit);
    },

    /**
     * Takes a submission for judging: queued, or running under a judge that died (the job's
     * lease, not this row, decides who may judge). A finished one is left alone: null.
     */
    async claim(id: string, now: Date): Promise<SubmissionRow | null> {
      const [row] = await db
        .update(submissions)
        .set({ status: 'running', startedAt: now, tries: sql`${submissions.tries} + 1` })
        .where(and(eq(submissions.id, id), inArray(submissions.status, ['queued', 'running'])))
        .returning();
      return row ?? null;
    },

    /**
     * A challenge's submissions in aggregate, computed in the database: by verdict, by
     * language, and per user the time from their first submission to their first accepted one.
     */
    async challengeStats(challengeId: string) {
      const byVerdict = await db.execute(sql`
        select coalesce(${submissions.verdict}, ${submissions.status}) as verdict, count(*)::int as count
        from ${submissions} where ${submissions.challengeId} = ${challengeId}
        group by 1 order by 1`);
      const byLanguage = await db.execute(sql`
        select ${submissions.language} as language, count(*)::int as submissions,
          (count(*) filter (where ${submissions.verdict} = 'accepted'))::int as accepted
        from ${submissions} where ${submissions.challengeId} = ${challengeId}
        group by 1 order by 1`);
      const [totals] = (
        (await db.execute(sql`
        with per_user as (
          select ${submissions.userId} as user_id,
            min(${submissions.createdAt}) as first_at,
            min(${submissions.createdAt}) filter (where ${submissions.verdict} = 'accepted') as accepted_at
          from ${submissions} where ${submissions.challengeId} = ${challengeId}
          group by 1
        )
        select count(*)::int as users,
          (count(*) filter (where accepted_at is not null))::int as users_accepted,
          percentile_cont(0.5) within group (
            order by extract(epoch from accepted_at - first_at)
          ) filter (where accepted_at is not null) as median_seconds
        from per_user`)) as unknown as {
          rows: Array<{
            users: number;
            users_accepted: number;
            median_seconds: number | string | null;
          }>;
        }
      ).rows;
      return {
        byVerdict: (byVerdict as unknown as { rows: Array<{ verdict: string; count: number }> })
          .rows,
        byLanguage: (
          byLanguage as unknown as {
            rows: Array<{ language: string; submissions: number; accepted: number }>;
          }
        ).rows,
        users: totals?.users ?? 0,
        usersAccepted: totals?.users_accepted ?? 0,
        medianSecondsToFirstAccept:
          totals?.median_seconds === null || totals?.median_seconds === undefined
            ? null
            : Number(totals.median_seconds),
      };
    },

    /**
     * Each user's best per challenge from judged submissions made to the challenge itself (a
     * quiz's code answers are the quiz's): the best score with its maximum, the best
     * score/max fraction, and when the user first scored full marks. Keyset-paged by
     * (challenge, user).
     */
    async bestResults(filter: {
      userId?: string;
      after?: { challengeId: string; userId: string };
      limit: number;
    }): Promise<SubmissionBest[]> {
      const conditions = [
        sql`status = 'completed'`,
        sql`attempt_id is null`,
        sql`score is not null`,
        ...(filter.userId ? [sql`user_id = ${filter.userId}`] : []),
        ...(filter.after
          ? [sql`(challenge_id, user_id) > (${filter.after.challengeId}, ${filter.after.userId})`]
          : []),
      ];
      const result = (await db.execute(sql`
        select distinct on (challenge_id, user_id) challenge_id, user_id,
          score::float8 as score, max_score::float8 as max_score,
          max(case when max_score > 0 then score / max_score else 0 end) over per_user
            as best_fraction,
          min(extract(epoch from created_at) * 1000)
            filter (where max_score > 0 and score >= max_score) over per_user as full_at_ms
        from ${submissions} where ${sql.join(conditions, sql` and `)}
        window per_user as (partition by challenge_id, user_id)
        order by challenge_id, user_id, score desc, created_at asc, id
        limit ${filter.limit}`)) as unknown as {
        rows: Array<{
          challenge_id: string;
          user_id: string;
          score: number;
          max_score: number;
          best_fraction: number;
          full_at_ms: number | string | null;
        }>;
      };
      return result.rows.map((row) => ({
        challengeId: row.challenge_id,
        userId: row.user_id,
        score: Number(row.score),
        maxScore: Number(row.max_score),
        bestFraction: Number(row.best_fraction),
        fullScoreAt: row.full_at_ms === null ? null : new Date(Math.round(Number(row.full_at_ms))),
      }));
    },

    /** Writes the outcome in the job's transaction, only over an unfinished row. */
    async finish(tx: Transaction, id: string, columns: JudgedColumns): Promise<boolean> {
      const rows = await tx
        .update(submissions)
        .set({ ...columns, score: String(columns.score) })
        .where(and(eq(submissions.id, id), inArray(submissions.status, ['queued', 'running'])))
        .returning({ id: submissions.id });
      return rows.length === 1;
    },
  };
}

export type SubmissionsRepository = ReturnType<typeof createSubmissionsRepository>;
