import { and, asc, desc, eq, inArray, isNull, lt, lte, or, type SQL, sql } from 'drizzle-orm';
import type { Database, Executor, Transaction } from '../../platform/db/database.ts';
import { milliseconds } from '../../platform/db/interval.ts';
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

const leaseFor = (ms: number) => sql`now() + ${milliseconds(ms)}`;
/**
 * No judge holds the submission: queued, or running under a claim given up (no holder) or
 * whose lease ran out (its judge died).
 */
const unheld = or(
  eq(submissions.status, 'queued'),
  and(
    eq(submissions.status, 'running'),
    or(
      isNull(submissions.leasedBy),
      isNull(submissions.leaseUntil),
      lt(submissions.leaseUntil, sql`now()`),
    ),
  ),
);
const heldBy = (holder: string) =>
  and(eq(submissions.status, 'running'), eq(submissions.leasedBy, holder));

export function createSubmissionsRepository(db: Database) {
  return {
    async insert(executor: Executor, row: SubmissionInsert): Promise<SubmissionRow> {
      // A queued row's lease_until is when it was queued, on the database's clock: the
      // sweeper's grace counts from there.
      const [inserted] = await executor
        .insert(submissions)
        .values({ ...row, leaseUntil: sql`now()` })
        .returning();
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
     * Takes the submission for one judge try, unless another judge holds it or it is judged
     * already. Lease times are the database's, so judges on several machines agree.
     */
    async claim(input: {
      id: string;
      holder: string;
      leaseMs: number;
      now: Date;
    }): Promise<SubmissionRow | null> {
      const [row] = await db
        .update(submissions)
        .set({
          status: 'running',
          startedAt: input.now,
          tries: sql`${submissions.tries} + 1`,
          leasedBy: input.holder,
          leaseUntil: leaseFor(input.leaseMs),
        })
        .where(and(eq(submissions.id, input.id), unheld))
        .returning();
      return row ?? null;
    },

    /** Keeps the claim alive; false when another judge took the submission over. */
    async extendLease(id: string, holder: string, leaseMs: number): Promise<boolean> {
      const rows = await db
        .update(submissions)
        .set({ leaseUntil: leaseFor(leaseMs) })
        .where(and(eq(submissions.id, id), heldBy(holder)))
        .returning({ id: submissions.id });
      return rows.length === 1;
    },

    /**
     * Gives the claim up at once (a try failed and will be retried): the retry may claim it
     * now, a heartbeat still in flight finds it gone, and the sweeper counts its grace from now.
     */
    async release(id: string, holder: string): Promise<void> {
      await db
        .update(submissions)
        .set({ leasedBy: null, leaseUntil: sql`now()` })
        .where(and(eq(submissions.id, id), heldBy(holder)));
    },

    /** How many submissions wait for a judge, and how many are being judged. */
    async backlog(): Promise<{ queued: number; running: number }> {
      const [row] = await db
        .select({
          queued: sql<string>`count(*) filter (where ${submissions.status} = 'queued')`,
          running: sql<string>`count(*) filter (where ${submissions.status} = 'running')`,
        })
        .from(submissions)
        .where(inArray(submissions.status, ['queued', 'running']));
      return { queued: Number(row?.queued ?? 0), running: Number(row?.running ?? 0) };
    },

    /**
     * Submissions the sweeper should hand to the broker again: queued longer than `graceMs`
     * ago (their message may be gone with Redis), or held by a lease that ran out that long ago
     * (rows from before leases existed count from their creation).
     */
    async stranded(input: { graceMs: number; limit: number; maxTries: number }) {
      const since = sql`now() - ${milliseconds(input.graceMs)}`;
      return db
        .select({ id: submissions.id, tries: submissions.tries })
        .from(submissions)
        .where(
          and(
            inArray(submissions.status, ['queued', 'running']),
            lt(sql`coalesce(${submissions.leaseUntil}, ${submissions.createdAt})`, since),
            // One whose outcome cannot even be written as a failure is not offered forever.
            lte(submissions.tries, input.maxTries),
          ),
        )
        .orderBy(asc(submissions.createdAt))
        .limit(input.limit);
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

    /**
     * Writes the outcome once: for a judge, only while it still holds the submission (a judge
     * that lost its lease writes nothing); for a give-up (`holder` null), only while no judge
     * holds it (a live judge's work is not overwritten).
     */
    async finish(
      tx: Transaction,
      id: string,
      columns: JudgedColumns,
      holder: string | null,
    ): Promise<boolean> {
      const rows = await tx
        .update(submissions)
        .set({ ...columns, score: String(columns.score), leasedBy: null, leaseUntil: null })
        .where(and(eq(submissions.id, id), holder === null ? unheld : heldBy(holder)))
        .returning({ id: submissions.id });
      return rows.length === 1;
    },
  };
}

export type SubmissionsRepository = ReturnType<typeof createSubmissionsRepository>;
