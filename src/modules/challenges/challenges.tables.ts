import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  doublePrecision,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';
import type { CheckerName } from '../submissions/submissions.checkers.ts';
import type { Difficulty } from './challenges.models.ts';

/** A coding challenge. Its test data lives in the storage port; `challenge_tests` says where. */
export const challenges = pgTable(
  'challenges',
  {
    id: text('id').primaryKey(),
    title: text('title').notNull(),
    /** Markdown. */
    statement: text('statement').notNull(),
    difficulty: text('difficulty').$type<Difficulty>().notNull(),
    languages: text('languages').array().notNull(),
    /** CPU time per test. */
    timeLimitMs: integer('time_limit_ms').notNull(),
    memoryLimitMb: integer('memory_limit_mb').notNull(),
    starterCode: jsonb('starter_code').$type<Record<string, string>>().notNull(),
    checker: text('checker').$type<CheckerName>().notNull(),
    /** Set exactly when the checker is `float`. */
    floatTolerance: doublePrecision('float_tolerance'),
    points: numeric('points', { precision: 8, scale: 2 }).notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (table) => [
    check('challenges_difficulty_check', sql`${table.difficulty} in ('easy', 'medium', 'hard')`),
    check(
      'challenges_checker_check',
      sql`${table.checker} in ('exact', 'trim', 'tokens', 'float')`,
    ),
    check(
      'challenges_tolerance_check',
      sql`(${table.checker} = 'float') = (${table.floatTolerance} is not null) and (${table.floatTolerance} is null or ${table.floatTolerance} >= 0)`,
    ),
    check(
      'challenges_limits_check',
      sql`${table.timeLimitMs} > 0 and ${table.memoryLimitMb} > 0 and ${table.points} > 0`,
    ),
    index('challenges_live_idx')
      .on(table.createdAt, table.id)
      .where(sql`${table.deletedAt} is null`),
  ],
);

/**
 * One test of a challenge: the metadata. Its input and expected output are the storage keys
 * `inputKey` and `outputKey`; rows are never deleted with the challenge, since submissions
 * judged against them refer to them.
 */
export const challengeTests = pgTable(
  'challenge_tests',
  {
    id: text('id').primaryKey(),
    challengeId: text('challenge_id')
      .notNull()
      .references(() => challenges.id),
    /** 1-based judging order within the challenge. */
    position: integer('position').notNull(),
    hidden: boolean('hidden').notNull(),
    weight: doublePrecision('weight').notNull(),
    inputKey: text('input_key').notNull(),
    outputKey: text('output_key').notNull(),
    inputBytes: integer('input_bytes').notNull(),
    outputBytes: integer('output_bytes').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    unique('challenge_tests_position_key').on(table.challengeId, table.position),
    check('challenge_tests_weight_check', sql`${table.weight} >= 0`),
    check('challenge_tests_position_check', sql`${table.position} > 0`),
  ],
);

export type ChallengeRow = typeof challenges.$inferSelect;
export type ChallengeTestRow = typeof challengeTests.$inferSelect;
