import { and, asc, desc, eq, lt, ne, or, sql } from 'drizzle-orm';
import { createBatcher } from '../../platform/db/batcher.ts';
import { type Database, type Executor, postgresErrorCode } from '../../platform/db/database.ts';
import { prepareRows, rowMapper } from '../../platform/db/prepared.ts';
import { attendance } from '../attendance/attendance.tables.ts';
import {
  type AttemptRow,
  attemptAnswers,
  attemptEvents,
  attemptRowColumns,
  attempts,
  type QuestionOutcome,
} from './attempts.tables.ts';

export type AttemptInsert = typeof attempts.$inferInsert;

export type AnswerSave = {
  attemptId: string;
  userId: string;
  questionId: string;
  answer: unknown;
  at: Date;
};

/**
 * Statements of saves in flight at once: below the default pool of 10, so saves leave
 * connections for everything else (with a smaller DATABASE_POOL_MAX they queue in the pool
 * like any other query).
 */
const SAVE_BATCHES_IN_FLIGHT = 4;
const SAVE_BATCH_SIZE = 256;
/** A save names the attempt, its claimed owner and the question; only the owner's is written. */
const saveKey = (save: { attemptId: string; userId: string; questionId: string }) =>
  `${save.attemptId}\u0000${save.userId}\u0000${save.questionId}`;

/** A user's best result at a quiz (see `bestResults`). */
export type AttemptBest = {
  quizId: string;
  userId: string;
  /** The best attempt's score, its maximum and time taken (submitted, or its end if earlier). */
  score: number;
  maxScore: number;
  timeTakenMs: number;
  submittedAt: Date;
  /** The best score / maxScore of any of the user's attempts (0 when maxScore is 0). */
  bestFraction: number;
};
export type Finalization = {
  status: AttemptRow['status'];
  endedBy: NonNullable<AttemptRow['endedBy']>;
  submittedAt: Date;
  score: number;
  outcomes: QuestionOutcome[];
  flagged?: boolean;
  flaggedReason?: string;
};

/** Keyset paging, newest first: the rows after the cursor's (startedAt, id). */
const startedBefore = (after?: { startedAt: Date; id: string }) =>
  after
    ? [
        or(
          lt(attempts.startedAt, after.startedAt),
          and(eq(attempts.startedAt, after.startedAt), lt(attempts.id, after.id)),
        )!,
      ]
    : [];

const toAttempt = rowMapper(attempts) as (raw: Record<string, unknown>) => AttemptRow;
/** `alias.column, …` of what an AttemptRow holds, for hand-written statements. */
const attemptColumnList = (alias: string) =>
  sql.raw(
    Object.values(attemptRowColumns)
      .map((column) => `${alias}."${column.name}"`)
      .join(', '),
  );
const ph = sql.placeholder;
const earnedOf = (outcomes: readonly QuestionOutcome[]) =>
  outcomes.reduce((sum, outcome) => sum + outcome.earned, 0);

export function createAttemptsRepository(db: Database) {
  // Exam day runs these thousands of times a second: built once, planned once per connection.
  const findOne = db
    .select(attemptRowColumns)
    .from(attempts)
    .where(eq(attempts.id, ph('id')))
    .prepare('attempts_find');
  const ofUserAndQuiz = db
    .select(attemptRowColumns)
    .from(attempts)
    .where(and(eq(attempts.quizId, ph('quizId')), eq(attempts.userId, ph('userId'))))
    .orderBy(asc(attempts.number))
    .prepare('attempts_of_user_and_quiz');
  const answersQuery = db
    .select({ questionId: attemptAnswers.questionId, answer: attemptAnswers.answer })
    .from(attemptAnswers)
    .where(eq(attemptAnswers.attemptId, ph('attemptId')))
    .prepare('attempts_answers_of');
  // The attempt and its presence in one statement: as atomic as a transaction, one round trip
  // instead of four, and no pooled connection held between them. Its number and the attempt
  // limit come from the rows themselves, so a start needs no read before it.
  const startOne = prepareRows<Record<string, unknown>>(
    db,
    'attempts_start',
    sql`with prior as (
      select count(*)::int as n from ${attempts}
      where quiz_id = ${ph('quizId')} and user_id = ${ph('userId')}
    ), inserted as (
      insert into ${attempts} (id, quiz_id, user_id, number, status, slots, started_at, expires_at, max_score)
      select ${ph('id')}::text, ${ph('quizId')}::text, ${ph('userId')}::text, n + 1, 'active',
        ${ph('slots')}::jsonb, ${ph('startedAt')}::timestamptz, ${ph('expiresAt')}::timestamptz,
        ${ph('maxScore')}::numeric
      from prior where n < ${ph('maxAttempts')}::int
      on conflict do nothing
      returning *
    ), present as (
      insert into ${attendance} (id, quiz_id, user_id, status, timestamp, source, created_at, updated_at)
      select ${ph('attendanceId')}::text, quiz_id, user_id, 'present', started_at, 'attempt', started_at, started_at
      from inserted
      on conflict do nothing
    )
    select * from inserted`,
  );
  // A reload shows the attempt with its answers: one round trip.
  const findWithAnswers = prepareRows<Record<string, unknown>>(
    db,
    'attempts_find_with_answers',
    sql`select ${attemptColumnList('a')}, coalesce(
        (select jsonb_object_agg(question_id, answer) from ${attemptAnswers} where attempt_id = a.id),
        '{}'::jsonb) as answers_by_question
      from ${attempts} a where a.id = ${ph('id')}`,
  );
  // One save. The key-share lock makes a save and a submit take turns: a save either lands
  // before the submit reads the answers, or finds the attempt no longer active (the lock waits
  // for the submit's commit, then re-reads the row). Used for a save alone (a quiet moment:
  // cheaper to plan and run than the batch) and for what the batch did not write.
  const saveOne = prepareRows<{ attempt_id: string }>(
    db,
    'attempts_save_answer',
    sql`with live as (
      select id from ${attempts}
      where id = ${ph('attemptId')} and user_id = ${ph('userId')} and status = 'active'
      for key share
    )
    insert into ${attemptAnswers} (attempt_id, question_id, answer, saved_at)
    select id, ${ph('questionId')}, ${ph('answer')}::jsonb, ${ph('at')} from live
    on conflict (attempt_id, question_id)
      do update set answer = excluded.answer, saved_at = excluded.saved_at
    returning attempt_id`,
  );
  // Saves of many students as one statement (see `saveAnswer`), under the same key-share lock,
  // except that an attempt a submit holds is skipped, not waited for: one submit must not hold
  // up the saves of everyone in the batch (`saveOne` then takes that save and waits). Each
  // attempt is looked up by its own key (the lateral join), so the plan cannot depend on
  // statistics: without them a set lookup reads every active attempt through the status index.
  // Rows are written in key order, so two batches never wait on each other in a cycle. A JSON
  // null answer (a cleared one) comes out of the recordset as SQL NULL: stored as null.
  const saveMany = prepareRows<{ attempt_id: string; user_id: string; question_id: string }>(
    db,
    'attempts_save_answers',
    sql`with input as (
      select * from jsonb_to_recordset(${ph('rows')}::jsonb)
        as t(attempt_id text, user_id text, question_id text, answer jsonb, saved_at timestamptz)
    ), live as (
      select a.id, a.user_id from (select distinct attempt_id from input) i
      cross join lateral (
        select id, user_id from ${attempts}
        where id = i.attempt_id and status = 'active'
        for key share skip locked
      ) a
    ), written as (
      insert into ${attemptAnswers} (attempt_id, question_id, answer, saved_at)
      select i.attempt_id, i.question_id, coalesce(i.answer, 'null'::jsonb), i.saved_at
      from input i join live on live.id = i.attempt_id and live.user_id = i.user_id
      order by i.attempt_id, i.question_id
      on conflict (attempt_id, question_id)
        do update set answer = excluded.answer, saved_at = excluded.saved_at
      returning attempt_id, question_id
    )
    select written.attempt_id, live.user_id, written.question_id
    from written join live on live.id = written.attempt_id`,
  );
  // A save's outcome, or the single statement still deciding it (see below).
  const saveBatched = createBatcher<AnswerSave, boolean | Promise<boolean>>({
    concurrency: SAVE_BATCHES_IN_FLIGHT,
    maxBatch: SAVE_BATCH_SIZE,
    sameTurn: true,
    // An answer PostgreSQL cannot store (the schema should have refused it) fails its own save.
    retrySingly: (error) => postgresErrorCode(error)?.startsWith('22') ?? false,
    run: async (saves) => {
      // Last write wins inside a batch too: one row per key, the latest save's.
      const latest = new Map<string, AnswerSave>();
      for (const save of saves) latest.set(saveKey(save), save);
      const unique = [...latest.values()];
      const alone = async (save: AnswerSave) =>
        (await saveOne({ ...save, answer: JSON.stringify(save.answer ?? null) })).length === 1;
      if (unique.length === 1) {
        const written = await alone(unique[0]!);
        return saves.map(() => written);
      }
      const rows = unique.map((save) => ({
        attempt_id: save.attemptId,
        user_id: save.userId,
        question_id: save.questionId,
        answer: save.answer,
        saved_at: save.at.toISOString(),
      }));
      const written = new Set(
        (await saveMany({ rows: JSON.stringify(rows) })).map((row) =>
          saveKey({ attemptId: row.attempt_id, userId: row.user_id, questionId: row.question_id }),
        ),
      );
      // Not written: the attempt is closed, not the caller's, or was skipped while a submit held
      // it. Alone, the single statement waits for the lock and decides (rare: a 409's path).
      // Those callers get its promise, so the written saves are answered now and the batch's
      // slot is free again, whatever the submit does.
      const decided = new Map<string, Promise<boolean>>();
      for (const save of unique)
        if (!written.has(saveKey(save))) decided.set(saveKey(save), alone(save));
      return saves.map((save) => decided.get(saveKey(save)) ?? true);
    },
  });

  return {
    /** Every attempt of one user at one quiz, oldest first (a handful at most). */
    async ofUserAndQuiz(userId: string, quizId: string): Promise<AttemptRow[]> {
      return ofUserAndQuiz.execute({ userId, quizId });
    },

    /** Inserts unless another active attempt or the same number exists (both unique): then undefined. */
    async insert(executor: Executor, row: AttemptInsert): Promise<AttemptRow | undefined> {
      const [inserted] = await executor
        .insert(attempts)
        .values(row)
        .onConflictDoNothing()
        .returning(attemptRowColumns);
      return inserted;
    },

    /**
     * A new active attempt, numbered after the user's earlier ones, and the student's presence
     * at the quiz (once per quiz), outside any transaction. Undefined when the user has
     * `maxAttempts` attempts already, an active one, or a parallel start took the number.
     */
    async start(row: {
      id: string;
      quizId: string;
      userId: string;
      slots: AttemptRow['slots'];
      startedAt: Date;
      expiresAt: Date | null;
      maxScore: string;
      maxAttempts: number;
      attendanceId: string;
    }): Promise<AttemptRow | undefined> {
      const [inserted] = await startOne({ ...row, slots: JSON.stringify(row.slots) });
      return inserted && toAttempt(inserted);
    },

    /** The attempt and its saved answers by question id. */
    async findWithAnswers(
      id: string,
    ): Promise<{ row: AttemptRow; answers: Map<string, unknown> } | undefined> {
      const [raw] = await findWithAnswers({ id });
      if (!raw) return undefined;
      const answers = raw.answers_by_question as Record<string, unknown>;
      return { row: toAttempt(raw), answers: new Map(Object.entries(answers)) };
    },

    async find(id: string): Promise<AttemptRow | undefined> {
      const [row] = await findOne.execute({ id });
      return row;
    },

    async lock(executor: Executor, id: string): Promise<AttemptRow | undefined> {
      const [row] = await executor
        .select(attemptRowColumns)
        .from(attempts)
        .where(eq(attempts.id, id))
        .for('update');
      return row;
    },

    async finalize(executor: Executor, id: string, change: Finalization): Promise<AttemptRow> {
      const [row] = await executor
        .update(attempts)
        .set({
          status: change.status,
          endedBy: change.endedBy,
          submittedAt: change.submittedAt,
          score: String(change.score),
          outcomes: change.outcomes,
          earned: earnedOf(change.outcomes),
          ...(change.flagged ? { flagged: true, flaggedReason: change.flaggedReason ?? null } : {}),
        })
        .where(eq(attempts.id, id))
        .returning(attemptRowColumns);
      return row!;
    },

    /** A judged code answer's points: new outcomes, total and status, in the judge's transaction. */
    async grade(
      executor: Executor,
      id: string,
      change: {
        outcomes: QuestionOutcome[];
        score: number;
        status: 'grading' | 'graded' | 'expired';
      },
    ): Promise<void> {
      await executor
        .update(attempts)
        .set({
          outcomes: change.outcomes,
          earned: earnedOf(change.outcomes),
          score: String(change.score),
          status: change.status,
        })
        .where(eq(attempts.id, id));
    },

    /**
     * Last write wins, but only while the attempt is active: true when written. Resolves once
     * committed; saves arriving together are written by one statement (group commit), which at
     * exam-day rates takes most of the per-save cost off both the server and the database.
     */
    async saveAnswer(save: AnswerSave): Promise<boolean> {
      return await saveBatched(save);
    },

    /** Inside a transaction pass it as `executor`; on `db` the prepared statement is used. */
    async answersOf(executor: Executor, attemptId: string): Promise<Map<string, unknown>> {
      const rows =
        executor === db
          ? await answersQuery.execute({ attemptId })
          : await executor
              .select({ questionId: attemptAnswers.questionId, answer: attemptAnswers.answer })
              .from(attemptAnswers)
              .where(eq(attemptAnswers.attemptId, attemptId));
      return new Map(rows.map((row) => [row.questionId, row.answer]));
    },

    /** Whether any attempt shows this question. */
    async showsQuestion(questionId: string): Promise<boolean> {
      const [row] = await db
        .select({ id: attempts.id })
        .from(attempts)
        .where(sql`${attempts.slots} @> ${JSON.stringify([{ questionId }])}::jsonb`)
        .limit(1);
      return row !== undefined;
    },

    /** Active attempts whose time ran out before `cutoff`. */
    async overdueIds(cutoff: Date, limit: number): Promise<string[]> {
      const rows = await db
        .select({ id: attempts.id })
        .from(attempts)
        .where(and(eq(attempts.status, 'active'), lt(attempts.expiresAt, cutoff)))
        .orderBy(asc(attempts.expiresAt))
        .limit(limit);
      return rows.map((row) => row.id);
    },

    /**
     * Stores one telemetry event and counts it on the attempt, while it is active.
     * Returns the attempt's counters after the event, or undefined when it is not active.
     */
    async recordEvent(event: {
      id: string;
      attemptId: string;
      type: string;
      /** The counter it adds to (see eventCounter). */
      counter: string;
      at: Date;
      receivedAt: Date;
      detail: unknown;
      focusLoss: boolean;
      /** Past this many events an attempt's telemetry is still counted but no longer stored. */
      maxStored: number;
    }) {
      return db.transaction(async (tx) => {
        const [counted] = await tx
          .update(attempts)
          .set({
            eventCounts: sql`jsonb_set(${attempts.eventCounts}, array[${event.counter}::text],
              to_jsonb(coalesce((${attempts.eventCounts} ->> ${event.counter})::int, 0) + 1))`,
            focusLosses: sql`${attempts.focusLosses} + ${event.focusLoss ? 1 : 0}`,
          })
          .where(and(eq(attempts.id, event.attemptId), eq(attempts.status, 'active')))
          .returning({ focusLosses: attempts.focusLosses, eventCounts: attempts.eventCounts });
        if (!counted) return undefined;
        const total = Object.values(counted.eventCounts).reduce((sum, count) => sum + count, 0);
        if (total <= event.maxStored) {
          await tx.insert(attemptEvents).values({
            id: event.id,
            attemptId: event.attemptId,
            type: event.type,
            at: event.at,
            receivedAt: event.receivedAt,
            detail: event.detail ?? null,
          });
        }
        return counted;
      });
    },

    async flag(id: string, reason: string): Promise<void> {
      await db
        .update(attempts)
        .set({ flagged: true, flaggedReason: reason })
        .where(and(eq(attempts.id, id), eq(attempts.flagged, false)));
    },

    async recentEvents(attemptId: string, limit: number) {
      return db
        .select()
        .from(attemptEvents)
        .where(eq(attemptEvents.attemptId, attemptId))
        .orderBy(desc(attemptEvents.receivedAt), desc(attemptEvents.id))
        .limit(limit);
    },

    /** Finished attempts of one user, newest first. */
    async finishedOf(
      userId: string,
      page: { limit: number; after?: { startedAt: Date; id: string } },
    ): Promise<AttemptRow[]> {
      return db
        .select(attemptRowColumns)
        .from(attempts)
        .where(
          and(
            eq(attempts.userId, userId),
            ne(attempts.status, 'active'),
            ...startedBefore(page.after),
          ),
        )
        .orderBy(desc(attempts.startedAt), desc(attempts.id))
        .limit(page.limit);
    },

    /**
     * Each user's best result per quiz, from graded and expired attempts: the best attempt by
     * score (desc), time taken (asc), then submission time, and the best score/max fraction of
     * any attempt. Keyset-paged by (quiz, user).
     */
    async bestResults(filter: {
      userId?: string;
      after?: { quizId: string; userId: string };
      limit: number;
    }): Promise<AttemptBest[]> {
      const conditions = [
        sql`status in ('graded', 'expired')`,
        sql`submitted_at is not null`,
        ...(filter.userId ? [sql`user_id = ${filter.userId}`] : []),
        ...(filter.after
          ? [sql`(quiz_id, user_id) > (${filter.after.quizId}, ${filter.after.userId})`]
          : []),
      ];
      const result = (await db.execute(sql`
        with finished as (
          select id, quiz_id, user_id, score::float8 as score, max_score::float8 as max_score,
            greatest(0, extract(epoch from
              least(submitted_at, coalesce(expires_at, submitted_at)) - started_at) * 1000)::float8
              as time_taken_ms,
            (extract(epoch from submitted_at) * 1000)::float8 as submitted_ms
          from ${attempts} where ${sql.join(conditions, sql` and `)}
        )
        select distinct on (quiz_id, user_id) quiz_id, user_id, score, max_score, time_taken_ms,
          submitted_ms,
          max(case when max_score > 0 then score / max_score else 0 end)
            over (partition by quiz_id, user_id) as best_fraction
        from finished
        order by quiz_id, user_id, score desc, time_taken_ms asc, submitted_ms asc, id
        limit ${filter.limit}`)) as unknown as {
        rows: Array<{
          quiz_id: string;
          user_id: string;
          score: number | null;
          max_score: number;
          time_taken_ms: number;
          submitted_ms: number;
          best_fraction: number;
        }>;
      };
      return result.rows.map((row) => ({
        quizId: row.quiz_id,
        userId: row.user_id,
        score: Number(row.score ?? 0),
        maxScore: Number(row.max_score),
        timeTakenMs: Math.round(Number(row.time_taken_ms)),
        submittedAt: new Date(Number(row.submitted_ms)),
        bestFraction: Number(row.best_fraction),
      }));
    },

    /** Attempts at one quiz, newest first (staff). */
    async ofQuiz(
      quizId: string,
      page: { limit: number; after?: { startedAt: Date; id: string } },
    ): Promise<AttemptRow[]> {
      return db
        .select(attemptRowColumns)
        .from(attempts)
        .where(and(eq(attempts.quizId, quizId), ...startedBefore(page.after)))
        .orderBy(desc(attempts.startedAt), desc(attempts.id))
        .limit(page.limit);
    },
  };
}

export type AttemptsRepository = ReturnType<typeof createAttemptsRepository>;
