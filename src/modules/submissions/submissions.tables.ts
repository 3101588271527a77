import { sql } from 'drizzle-orm';
import { check, index, integer, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { jsonValue } from '../../platform/db/json-value.ts';
import type { Feedback } from './submissions.feedback.ts';
import type { SubmissionStatus, SubmissionVerdict, TestOutcome } from './submissions.models.ts';

/**
 * A program submitted to a challenge. `queued` until a judge claims it, `running` while it is
 * judged, then `completed` with verdict, score and per-test outcomes (hidden tests by verdict
 * and measures only), or `failed` (`internal_error`) when the judge kept failing.
 */
export const submissions = pgTable(
  'submissions',
  {
    id: text('id').primaryKey(),
    challengeId: text('challenge_id').notNull(),
    userId: text('user_id').notNull(),
    language: text('language').notNull(),
    source: text('source').notNull(),
    status: text('status').$type<SubmissionStatus>().notNull(),
    verdict: text('verdict').$type<SubmissionVerdict>(),
    score: numeric('score', { precision: 10, scale: 2 }),
    maxScore: numeric('max_score', { precision: 10, scale: 2 }).notNull(),
    tests: jsonValue('tests').$type<TestOutcome[]>(),
    compileOutput: text('compile_output'),
    feedback: jsonValue('feedback').$type<Feedback>(),
    /** Set when the submission is a code answer of a quiz attempt. */
    attemptId: text('attempt_id'),
    questionId: text('question_id'),
    /** Judge tries so far (a killed worker's try counts). */
    tries: integer('tries').notNull().default(0),
    /**
     * The judge holding the submission while it runs, and until when (while queued: since
     * when, on the database's clock). The row is the judge job's record (an owner-kept job),
     * so its claim and the sweeper's search live here.
     */
    leasedBy: text('leased_by'),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (table) => [
    check(
      'submissions_status_check',
      sql`${table.status} in ('queued', 'running', 'completed', 'failed')`,
    ),
    check(
      'submissions_finished_check',
      sql`(${table.status} in ('completed', 'failed')) = (${table.verdict} is not null)`,
    ),
    index('submissions_user_idx').on(table.userId, table.createdAt, table.id),
    index('submissions_challenge_idx').on(table.challengeId, table.createdAt, table.id),
    // The sweeper's search: only submissions still waiting for a verdict.
    index('submissions_unjudged_idx')
      .on(table.createdAt)
      .where(sql`${table.status} in ('queued', 'running')`),
  ],
);

export type SubmissionRow = typeof submissions.$inferSelect;
export type SubmissionInsert = typeof submissions.$inferInsert;
