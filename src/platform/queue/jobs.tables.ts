import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { jsonValue } from '../db/json-value.ts';

/**
 * The job ledger: the database copy of every job. The broker (BullMQ or the in-process queue)
 * only carries ids; this row is the truth, so a lost broker message or a killed worker loses
 * nothing (the sweeper finds the row again).
 */
export const jobs = pgTable(
  'jobs',
  {
    id: text('id').primaryKey(),
    type: text('type').notNull(),
    queue: text('queue').notNull(),
    payload: jsonValue('payload').notNull(),
    status: text('status', { enum: ['pending', 'running', 'completed', 'failed'] })
      .notNull()
      .default('pending'),
    attempts: integer('attempts').notNull().default(0),
    maxAttempts: integer('max_attempts').notNull(),
    runAt: timestamp('run_at', { withTimezone: true }).notNull().defaultNow(),
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    leasedBy: text('leased_by'),
    lastError: text('last_error'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (table) => [
    check(
      'jobs_status_check',
      sql`${table.status} in ('pending', 'running', 'completed', 'failed')`,
    ),
    index('jobs_pending_idx').on(table.queue, table.runAt).where(sql`${table.status} = 'pending'`),
    index('jobs_running_idx').on(table.leaseUntil).where(sql`${table.status} = 'running'`),
    index('jobs_finished_idx')
      .on(table.finishedAt)
      .where(sql`${table.status} in ('completed', 'failed')`),
  ],
);

export type JobRow = typeof jobs.$inferSelect;
