import { sql } from 'drizzle-orm';
import { check, integer, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { jsonValue } from '../../platform/db/json-value.ts';
import type { ReportPair } from './plagiarism.report.ts';

export const REPORT_STATUSES = ['queued', 'running', 'completed', 'failed'] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

/**
 * The latest similarity report of a challenge, one row per challenge. A recompute moves it to
 * `queued` and `running` while `pairs`, `submissions_compared` and `computed_at` keep the last
 * completed report's, so staff see the previous one meanwhile. `request_id` names the request
 * being served: a job of an earlier request finds another id and does nothing.
 */
export const plagiarismReports = pgTable(
  'plagiarism_reports',
  {
    challengeId: text('challenge_id').primaryKey(),
    status: text('status').$type<ReportStatus>().notNull(),
    requestId: text('request_id').notNull(),
    pairs: jsonValue('pairs').$type<ReportPair[]>().notNull(),
    submissionsCompared: integer('submissions_compared').notNull().default(0),
    requestedAt: timestamp('requested_at', { withTimezone: true }).notNull(),
    computedAt: timestamp('computed_at', { withTimezone: true }),
    /** Why the last recompute failed for good; cleared by the next request. */
    error: text('error'),
  },
  (table) => [
    check(
      'plagiarism_reports_status_check',
      sql`${table.status} in ('queued', 'running', 'completed', 'failed')`,
    ),
  ],
);

export type PlagiarismReportRow = typeof plagiarismReports.$inferSelect;
