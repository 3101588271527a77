import { getTableColumns, sql } from 'drizzle-orm';
import {
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import { jsonValue } from '../../platform/db/json-value.ts';

export const ATTEMPT_STATUSES = ['active', 'submitted', 'grading', 'graded', 'expired'] as const;
export type AttemptStatus = (typeof ATTEMPT_STATUSES)[number];

/** What one attempt shows, fixed at start: question order, points, option order. */
export type AttemptSlot = { questionId: string; points: number; optionIds?: string[] };

/** One question's outcome as scored at submit. */
export type QuestionOutcome = {
  questionId: string;
  status: 'scored' | 'pending';
  earned: number;
  max: number;
  correct?: boolean;
  /** A code answer's submission, judged by the submissions module. */
  submissionId?: string;
  /** Why a code answer scored 0 without being judged (its challenge is gone, …). */
  note?: string;
  /**
   * Recorded at submit for the quiz report (absent on attempts submitted before): whether a
   * non-blank answer was saved, and for choice questions the distinct option ids picked
   * (`true`/`false` for true-false), so pick rates need not scan the saved answers.
   */
  answered?: boolean;
  picked?: string[];
};

export const attempts = pgTable(
  'attempts',
  {
    id: text('id').primaryKey(),
    quizId: text('quiz_id').notNull(),
    userId: text('user_id').notNull(),
    /** 1 for a user's first attempt at the quiz; unique, so parallel starts cannot exceed maxAttempts. */
    number: integer('number').notNull(),
    status: text('status', { enum: ATTEMPT_STATUSES }).notNull().default('active'),
    slots: jsonb('slots').$type<AttemptSlot[]>().notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    /** min(startedAt + duration, closesAt); null when neither bounds it. */
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    submittedAt: timestamp('submitted_at', { withTimezone: true }),
    endedBy: text('ended_by', { enum: ['student', 'timer', 'focus_limit'] }),
    score: numeric('score', { precision: 12, scale: 6 }),
    maxScore: numeric('max_score', { precision: 12, scale: 6 }).notNull(),
    outcomes: jsonb('outcomes').$type<QuestionOutcome[]>(),
    /**
     * Σ outcomes' earned, before `score`'s rounding and floor at 0: the quiz report reads each
     * question's "rest of the attempt" as this minus its mark, with no second pass over outcomes.
     */
    earned: doublePrecision('earned'),
    /**
     * The outcomes again as parallel arrays (question id, earned, max, answered, picked as JSON
     * text), derived by the database: the quiz report reads 300,000 outcomes in one pass, and
     * unnesting arrays costs about a third less than parsing the JSON. Null without outcomes (an
     * active attempt carries none of it). Functions in migration 0014.
     */
    outcomeQuestions: text('outcome_questions')
      .array()
      .generatedAlwaysAs(sql`attempt_outcome_questions(outcomes)`),
    outcomeMarks: doublePrecision('outcome_marks')
      .array()
      .generatedAlwaysAs(sql`attempt_outcome_marks(outcomes)`),
    outcomeMaxima: doublePrecision('outcome_maxima')
      .array()
      .generatedAlwaysAs(sql`attempt_outcome_maxima(outcomes)`),
    outcomeAnswered: boolean('outcome_answered')
      .array()
      .generatedAlwaysAs(sql`attempt_outcome_answered(outcomes)`),
    outcomePicks: text('outcome_picks')
      .array()
      .generatedAlwaysAs(sql`attempt_outcome_picks(outcomes)`),
    focusLosses: integer('focus_losses').notNull().default(0),
    eventCounts: jsonb('event_counts')
      .$type<Record<string, number>>()
      .notNull()
      .default(sql`'{}'::jsonb`),
    flagged: boolean('flagged').notNull().default(false),
    flaggedReason: text('flagged_reason'),
  },
  (table) => [
    check(
      'attempts_status_check',
      sql`${table.status} in ('active', 'submitted', 'grading', 'graded', 'expired')`,
    ),
    // The guarantee behind "a second start returns the same attempt": one active per user and quiz.
    uniqueIndex('attempts_one_active_idx')
      .on(table.quizId, table.userId)
      .where(sql`${table.status} = 'active'`),
    uniqueIndex('attempts_number_idx').on(table.quizId, table.userId, table.number),
    index('attempts_user_idx').on(table.userId, table.startedAt),
    index('attempts_due_idx').on(table.expiresAt).where(sql`${table.status} = 'active'`),
  ],
);

/** The columns the database derives for the quiz report; nothing else reads them. */
type DerivedColumn =
  | 'outcomeQuestions'
  | 'outcomeMarks'
  | 'outcomeMaxima'
  | 'outcomeAnswered'
  | 'outcomePicks';
const DERIVED: ReadonlySet<string> = new Set<DerivedColumn>([
  'outcomeQuestions',
  'outcomeMarks',
  'outcomeMaxima',
  'outcomeAnswered',
  'outcomePicks',
]);

/** An attempt as the service sees it: every column but the report's derived arrays. */
export type AttemptRow = Omit<typeof attempts.$inferSelect, DerivedColumn>;

/** What `select(attemptRowColumns)` and `returning(attemptRowColumns)` read: `AttemptRow`. */
export const attemptRowColumns = Object.fromEntries(
  Object.entries(getTableColumns(attempts)).filter(([key]) => !DERIVED.has(key)),
) as Omit<(typeof attempts)['_']['columns'], DerivedColumn>;

/** The latest saved answer per question; autosave overwrites it (last write wins). */
export const attemptAnswers = pgTable(
  'attempt_answers',
  {
    attemptId: text('attempt_id').notNull(),
    questionId: text('question_id').notNull(),
    answer: jsonValue('answer').notNull(),
    savedAt: timestamp('saved_at', { withTimezone: true }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.attemptId, table.questionId] })],
);

/** Anti-cheat telemetry as the client reported it. */
export const attemptEvents = pgTable(
  'attempt_events',
  {
    id: text('id').primaryKey(),
    attemptId: text('attempt_id').notNull(),
    type: text('type').notNull(),
    /** When the client says it happened. */
    at: timestamp('at', { withTimezone: true }).notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull(),
    detail: jsonValue('detail'),
  },
  (table) => [index('attempt_events_attempt_idx').on(table.attemptId, table.receivedAt)],
);
