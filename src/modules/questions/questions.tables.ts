import { sql } from 'drizzle-orm';
import { check, index, jsonb, numeric, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import type { QuestionBody } from './questions.models.ts';

/** The question bank. `body` holds the type-specific part, answer keys included (staff only). */
export const questions = pgTable(
  'questions',
  {
    id: text('id').primaryKey(),
    type: text('type', {
      enum: ['single_choice', 'multiple_choice', 'true_false', 'short_answer', 'numeric', 'code'],
    }).notNull(),
    name: text('name'),
    prompt: text('prompt').notNull(),
    explanation: text('explanation'),
    points: numeric('points', { precision: 8, scale: 2 }).notNull().default('1'),
    tags: text('tags').array().notNull().default(sql`'{}'::text[]`),
    language: text('language'),
    level: text('level', { enum: ['beginner', 'intermediate', 'advanced'] }),
    body: jsonb('body').$type<QuestionBody>().notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (table) => [
    check('questions_points_check', sql`${table.points} > 0`),
    index('questions_live_idx')
      .on(table.createdAt, table.id)
      .where(sql`${table.deletedAt} is null`),
    index('questions_tags_idx').using('gin', table.tags),
  ],
);

export type QuestionRow = typeof questions.$inferSelect;
