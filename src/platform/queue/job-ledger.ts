import { and, eq, inArray, lt, or, type SQLChunk, sql } from 'drizzle-orm';
import type { Database, Executor } from '../db/database.ts';
import { milliseconds } from '../db/interval.ts';
import { prepareRows } from '../db/prepared.ts';
import { type JobRow, jobs } from './jobs.tables.ts';

const ph = sql.placeholder;

/** A job as enqueued: its row is made from this. */
export type NewJob = {
  id: string;
  type: string;
  queue: string;
  payload: Record<string, unknown>;
  maxAttempts: number;
  delayMs: number;
};

const rowOf = (job: NewJob) => ({
  id: job.id,
  type: job.type,
  queue: job.queue,
  payload: job.payload,
  maxAttempts: job.maxAttempts,
  runAt: sql`now() + ${milliseconds(job.delayMs)}`,
});

/** What a worker needs of a job it claimed. */
export type ClaimedJob = Pick<
  JobRow,
  'id' | 'type' | 'queue' | 'payload' | 'attempts' | 'maxAttempts'
>;

/** Due, or held on a lease that ran out. */
const CLAIMABLE = sql.raw(`case status
  when 'pending' then run_at <= now()
  when 'running' then lease_until < now()
  else false end`);

// Claims and completions look rows up by id alone: their state tests are CASE expressions,
// which no partial index on status can serve. While the table's statistics are stale (during a
// burst of new jobs) the planner took jobs_pending_idx, estimated at 3 rows, and each claim of
// a few ids then read every pending job (3,000 rows for 20 ids: 4-7 ms a statement under
// load). Their parameters are SQL chunks (placeholders when prepared) so that a test can
// EXPLAIN them with values.

/** Leases the claimable jobs among `ids` (a text[]) to `workerId`, skipping locked rows. */
export const claimStatement = (p: { ids: SQLChunk; workerId: SQLChunk; leaseMs: SQLChunk }) =>
  sql`update ${jobs} set status = 'running', attempts = attempts + 1,
      lease_until = now() + ${p.leaseMs}::double precision * interval '1 millisecond',
      leased_by = ${p.workerId}::text, updated_at = now()
    where id in (
        select id from ${jobs}
        where id = any(${p.ids}::text[]) and ${CLAIMABLE}
        for update skip locked)
      and ${CLAIMABLE}
    returning id, type, queue, payload, attempts, max_attempts as "maxAttempts"`;

/** Completes the jobs among `ids` (a text[]) that `workerId` holds. */
export const completeStatement = (p: { ids: SQLChunk; workerId: SQLChunk }) =>
  sql`update ${jobs} set status = 'completed', lease_until = null, last_error = null,
      updated_at = now(), finished_at = now()
    where id = any(${p.ids}::text[])
      and case status when 'running' then leased_by = ${p.workerId}::text else false end
    returning id`;

/** What completing a job sets. */
const completed = () => ({
  status: 'completed' as const,
  leaseUntil: null,
  lastError: null,
  updatedAt: sql`now()`,
  finishedAt: sql`now()`,
});

/** Data access for the job ledger. Every state change is a conditional update, so racing workers cannot both win. */
export function createJobLedger(db: Database) {
  // The statements a queue runs per job are written by hand and prepared once: Drizzle's query
  // builder spent more CPU building a 200-row INSERT than the rest of an enqueue, BullMQ's push
  // included (about 100 of 155 µs a job), and about a tenth of a drain's CPU building claims
  // and completions. An enqueue batch is one JSON parameter, a claim's ids one text[].
  const insertRows = prepareRows<{ id: string }>(
    db,
    'jobs_insert',
    sql`insert into ${jobs} (id, type, queue, payload, max_attempts, run_at)
      select r.id, r.type, r.queue, r.payload, r."maxAttempts",
        now() + r."delayMs" * interval '1 millisecond'
      from jsonb_to_recordset(${ph('rows')}::jsonb) as r(
        id text, type text, queue text, payload jsonb, "maxAttempts" integer,
        "delayMs" double precision)
      on conflict (id) do nothing
      returning id`,
  );
  const claimRows = prepareRows<ClaimedJob>(
    db,
    'jobs_claim',
    claimStatement({ ids: ph('ids'), workerId: ph('workerId'), leaseMs: ph('leaseMs') }),
  );
  const completeRows = prepareRows<{ id: string }>(
    db,
    'jobs_complete',
    completeStatement({ ids: ph('ids'), workerId: ph('workerId') }),
  );
  return {
    /** Whether the job is new (a known id is left as it is). */
    async insert(executor: Executor, job: NewJob): Promise<boolean> {
      const rows = await executor
        .insert(jobs)
        .values(rowOf(job))
        .onConflictDoNothing({ target: jobs.id })
        .returning({ id: jobs.id });
      return rows.length === 1;
    },

    /** `insert` for many jobs in one statement: per job, whether it was new. */
    async insertMany(jobsToInsert: readonly NewJob[]): Promise<boolean[]> {
      const rows = await insertRows({ rows: JSON.stringify(jobsToInsert) });
      // The same id twice in one statement: the first one is the new job.
      const created = new Set(rows.map((row) => row.id));
      return jobsToInsert.map((job) => created.delete(job.id));
    },

    /**
     * Takes each job that is due, or whose last holder's lease ran out, in one statement. An id
     * given twice (delivered twice) is claimed once: the first caller gets the row, the other
     * nothing. A row locked right now (its holder is completing it, or it is being handed back)
     * is skipped, not waited for, so one busy row does not hold up the rest of the batch: that
     * is nothing claimed, and a job still due is pushed again by the sweeper.
     */
    async claimMany(
      ids: readonly string[],
      workerId: string,
      leaseMs: number,
    ): Promise<Array<ClaimedJob | undefined>> {
      const rows = await claimRows({ ids: [...new Set(ids)], workerId, leaseMs });
      const claimed = new Map(rows.map((row) => [row.id, row]));
      return ids.map((id) => {
        const row = claimed.get(id);
        claimed.delete(id);
        return row;
      });
    },

    /** `complete` outside a transaction for many jobs of one worker, in one statement. */
    async completeMany(ids: readonly string[], workerId: string): Promise<boolean[]> {
      const rows = await completeRows({ ids: [...new Set(ids)], workerId });
      const done = new Set(rows.map((row) => row.id));
      return ids.map((id) => done.delete(id));
    },

    async extendLease(id: string, workerId: string, leaseMs: number): Promise<boolean> {
      const rows = await db
        .update(jobs)
        .set({ leaseUntil: sql`now() + ${milliseconds(leaseMs)}` })
        .where(and(eq(jobs.id, id), eq(jobs.status, 'running'), eq(jobs.leasedBy, workerId)))
        .returning({ id: jobs.id });
      return rows.length === 1;
    },

    async complete(executor: Executor, id: string, workerId: string): Promise<boolean> {
      const rows = await executor
        .update(jobs)
        .set(completed())
        .where(and(eq(jobs.id, id), eq(jobs.status, 'running'), eq(jobs.leasedBy, workerId)))
        .returning({ id: jobs.id });
      return rows.length === 1;
    },

    async retryLater(
      id: string,
      workerId: string,
      error: string,
      delayMs: number,
    ): Promise<boolean> {
      const rows = await db
        .update(jobs)
        .set({
          status: 'pending',
          leaseUntil: null,
          leasedBy: null,
          lastError: error,
          runAt: sql`now() + ${milliseconds(delayMs)}`,
          updatedAt: sql`now()`,
        })
        .where(and(eq(jobs.id, id), eq(jobs.status, 'running'), eq(jobs.leasedBy, workerId)))
        .returning({ id: jobs.id });
      return rows.length === 1;
    },

    async fail(id: string, workerId: string, error: string): Promise<boolean> {
      const rows = await db
        .update(jobs)
        .set({
          status: 'failed',
          leaseUntil: null,
          lastError: error,
          updatedAt: sql`now()`,
          finishedAt: sql`now()`,
        })
        .where(and(eq(jobs.id, id), eq(jobs.status, 'running'), eq(jobs.leasedBy, workerId)))
        .returning({ id: jobs.id });
      return rows.length === 1;
    },

    /** Hands a claimed job back untouched (e.g. this worker has no handler for it). */
    async release(id: string, workerId: string): Promise<void> {
      await db
        .update(jobs)
        .set({
          status: 'pending',
          attempts: sql`greatest(${jobs.attempts} - 1, 0)`,
          leaseUntil: null,
          leasedBy: null,
          updatedAt: sql`now()`,
        })
        .where(and(eq(jobs.id, id), eq(jobs.status, 'running'), eq(jobs.leasedBy, workerId)));
    },

    /**
     * Jobs the broker may have lost: due for longer than `graceMs` yet still pending (the enqueue
     * after commit never happened, or Redis forgot it), or running on an expired lease (the
     * worker died).
     */
    async findStranded(options: { queues: readonly string[]; graceMs: number; limit: number }) {
      if (options.queues.length === 0) return [];
      return db
        .select({ id: jobs.id, queue: jobs.queue, attempts: jobs.attempts })
        .from(jobs)
        .where(
          and(
            inArray(jobs.queue, [...options.queues]),
            or(
              and(
                eq(jobs.status, 'pending'),
                sql`${jobs.runAt} <= now() - ${milliseconds(options.graceMs)}`,
              ),
              and(eq(jobs.status, 'running'), sql`${jobs.leaseUntil} < now()`),
            ),
          ),
        )
        .orderBy(jobs.runAt)
        .limit(options.limit);
    },

    async get(id: string): Promise<JobRow | undefined> {
      const [row] = await db.select().from(jobs).where(eq(jobs.id, id));
      return row;
    },

    /** Pending and running jobs per queue. */
    async depth(): Promise<Array<{ queue: string; status: string; count: number }>> {
      const rows = await db
        .select({ queue: jobs.queue, status: jobs.status, count: sql<string>`count(*)` })
        .from(jobs)
        .where(inArray(jobs.status, ['pending', 'running']))
        .groupBy(jobs.queue, jobs.status);
      return rows.map((row) => ({
        queue: row.queue,
        status: row.status,
        count: Number(row.count),
      }));
    },

    async pruneFinished(options: { completedOlderThanMs: number; failedOlderThanMs: number }) {
      const rows = await db
        .delete(jobs)
        .where(
          or(
            and(
              eq(jobs.status, 'completed'),
              lt(jobs.finishedAt, sql`now() - ${milliseconds(options.completedOlderThanMs)}`),
            ),
            and(
              eq(jobs.status, 'failed'),
              lt(jobs.finishedAt, sql`now() - ${milliseconds(options.failedOlderThanMs)}`),
            ),
          ),
        )
        .returning({ id: jobs.id });
      return rows.length;
    },
  };
}

export type JobLedger = ReturnType<typeof createJobLedger>;
