import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

export const NOTIFICATION_KINDS = [
  'quiz_published',
  'results_available',
  'submission_judged',
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/** Ids (and, for a judged submission, its verdict and score) a client links from; never test data. */
export type NotificationData = {
  quizId?: string;
  attemptId?: string;
  submissionId?: string;
  challengeId?: string;
  verdict?: string;
  score?: number;
  maxScore?: number;
};

const KINDS_SQL = sql.raw(NOTIFICATION_KINDS.map((kind) => `'${kind}'`).join(', '));

export const notifications = pgTable(
  'notifications',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    kind: text('kind', { enum: NOTIFICATION_KINDS }).notNull(),
    /** The quiz, attempt or submission it is about: with user and kind, at most one row. */
    subjectId: text('subject_id').notNull(),
    title: text('title').notNull(),
    /** Paragraphs separated by a blank line. */
    body: text('body').notNull(),
    /** The API path of the thing it is about. */
    link: text('link').notNull(),
    data: jsonb('data').$type<NotificationData>().notNull(),
    /** False when the user opted out of in-app notices of this kind: the row only feeds the email. */
    inApp: boolean('in_app').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    readAt: timestamp('read_at', { withTimezone: true }),
    emailedAt: timestamp('emailed_at', { withTimezone: true }),
  },
  (table) => [
    check('notifications_kind_check', sql`${table.kind} in (${KINDS_SQL})`),
    // A fact delivered twice (a job retried, a hook run again) writes one row.
    uniqueIndex('notifications_subject_idx').on(table.userId, table.kind, table.subjectId),
    index('notifications_inbox_idx')
      .on(table.userId, table.createdAt.desc(), table.id.desc())
      .where(sql`${table.inApp}`),
    index('notifications_unread_idx')
      .on(table.userId)
      .where(sql`${table.inApp} and ${table.readAt} is null`),
  ],
);

export type NotificationRow = typeof notifications.$inferSelect;

/** One row per user and kind they changed; a missing row means both channels are on. */
export const notificationPreferences = pgTable(
  'notification_preferences',
  {
    userId: text('user_id').notNull(),
    kind: text('kind', { enum: NOTIFICATION_KINDS }).notNull(),
    email: boolean('email').notNull(),
    inApp: boolean('in_app').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull(),
  },
  (table) => [
    primaryKey({ columns: [table.userId, table.kind] }),
    check('notification_preferences_kind_check', sql`${table.kind} in (${KINDS_SQL})`),
  ],
);

export type NotificationPreferenceRow = typeof notificationPreferences.$inferSelect;
