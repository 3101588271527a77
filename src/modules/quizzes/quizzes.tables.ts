import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

export type QuizQuestionRef = { questionId: string; points?: number };
export type QuizPool = {
  tags?: string[];
  level?: 'beginner' | 'intermediate' | 'advanced';
  language?: string;
  count: number;
};

export const quizzes = pgTable(
  'quizzes',
  {
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    description: text('description').notNull().default(''),
    status: text('status', { enum: ['draft', 'published', 'archived'] })
      .notNull()
      .default('draft'),
    /** Minutes, fractions allowed; null = untimed. */
    durationMinutes: numeric('duration_minutes', { precision: 8, scale: 2 }),
    opensAt: timestamp('opens_at', { withTimezone: true }),
    closesAt: timestamp('closes_at', { withTimezone: true }),
    maxAttempts: integer('max_attempts').notNull().default(1),
    shuffleQuestions: boolean('shuffle_questions').notNull().default(false),
    shuffleOptions: boolean('shuffle_options').notNull().default(false),
    passMark: numeric('pass_mark', { precision: 5, scale: 2 }),
    negativeMarking: numeric('negative_marking', { precision: 4, scale: 3 }),
    reviewPolicy: text('review_policy', { enum: ['never', 'after_submit', 'after_close'] })
      .notNull()
      .default('after_submit'),
    /** Focus losses (tab hidden, window blur) tolerated before `focusLossAction`; null = no limit. */
    maxFocusLosses: integer('max_focus_losses'),
    focusLossAction: text('focus_loss_action', { enum: ['flag', 'submit'] })
      .notNull()
      .default('flag'),
    /** The leaderboard is for staff only: students are refused it (403 LEADERBOARD_HIDDEN). */
    hideLeaderboard: boolean('hide_leaderboard').notNull().default(false),
    /** Set by the first attempt; from then on the questions and pool are frozen. */
    firstAttemptAt: timestamp('first_attempt_at', { withTimezone: true }),
    questions: jsonb('questions').$type<QuizQuestionRef[]>(),
    pool: jsonb('pool').$type<QuizPool>(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    publishedAt: timestamp('published_at', { withTimezone: true }),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (table) => [
    check('quizzes_status_check', sql`${table.status} in ('draft', 'published', 'archived')`),
    check(
      'quizzes_window_check',
      sql`${table.opensAt} is null or ${table.closesAt} is null or ${table.opensAt} < ${table.closesAt}`,
    ),
    check('quizzes_source_check', sql`(${table.questions} is null) <> (${table.pool} is null)`),
    index('quizzes_live_idx').on(table.createdAt, table.id).where(sql`${table.deletedAt} is null`),
  ],
);

export type QuizRow = typeof quizzes.$inferSelect;
