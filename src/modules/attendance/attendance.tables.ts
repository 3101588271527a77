import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const ATTENDANCE_STATUSES = ['present', 'absent', 'late', 'excused'] as const;
export const ATTENDANCE_SOURCES = ['attempt', 'manual', 'face'] as const;

export const attendance = pgTable(
  'attendance',
  {
    id: text('id').primaryKey(),
    quizId: text('quiz_id').notNull(),
    userId: text('user_id').notNull(),
    status: text('status', { enum: ATTENDANCE_STATUSES }).notNull(),
    timestamp: timestamp('timestamp', { withTimezone: true }).notNull(),
    source: text('source', { enum: ATTENDANCE_SOURCES }).notNull(),
    note: text('note'),
    recordedBy: text('recorded_by'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    check(
      'attendance_status_check',
      sql`${table.status} in ('present', 'absent', 'late', 'excused')`,
    ),
    check('attendance_source_check', sql`${table.source} in ('attempt', 'manual', 'face')`),
    // Starting several attempts records presence once.
    uniqueIndex('attendance_attempt_once_idx')
      .on(table.quizId, table.userId)
      .where(sql`${table.source} = 'attempt'`),
    index('attendance_quiz_idx').on(table.quizId, table.timestamp),
    index('attendance_user_idx').on(table.userId, table.timestamp),
  ],
);

export type AttendanceRow = typeof attendance.$inferSelect;
