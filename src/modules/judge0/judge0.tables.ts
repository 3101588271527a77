import { sql } from 'drizzle-orm';
import {
  check,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';
import type { EchoedSettings } from './judge0.models.ts';

/** Programs, inputs and outputs are bytes: Judge0 clients may send anything in base64. */
const bytes = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  // PGlite hands back a Uint8Array, pg a Buffer.
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

/**
 * One Judge0 submission. Status 1 (In Queue) until a worker claims it, 2 (Processing) while it
 * runs, a final status (3–14) with the result columns set once it finished.
 */
export const judge0Submissions = pgTable(
  'judge0_submissions',
  {
    token: text('token').primaryKey(),
    /** A user id, or `judge0-key` for callers with the configured X-Auth-Token. */
    owner: text('owner').notNull(),
    languageId: integer('language_id').notNull(),
    /** Assay's language id (`python`, `c`, …) the Judge0 id stood for when it was submitted. */
    language: text('language').notNull(),
    sourceCode: bytes('source_code').notNull(),
    stdin: bytes('stdin'),
    expectedOutput: bytes('expected_output'),
    cpuTimeLimitMs: integer('cpu_time_limit_ms').notNull(),
    wallTimeLimitMs: integer('wall_time_limit_ms').notNull(),
    memoryLimitKb: integer('memory_limit_kb').notNull(),
    settings: jsonb('settings').$type<EchoedSettings>().notNull(),
    statusId: integer('status_id').notNull(),
    stdout: bytes('stdout'),
    stderr: bytes('stderr'),
    compileOutput: bytes('compile_output'),
    message: text('message'),
    exitCode: integer('exit_code'),
    exitSignal: integer('exit_signal'),
    timeMs: integer('time_ms'),
    wallTimeMs: integer('wall_time_ms'),
    memoryKb: integer('memory_kb'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (table) => [
    check('judge0_submissions_status_check', sql`${table.statusId} between 1 and 14`),
    // The queue-size check counts unfinished submissions.
    index('judge0_submissions_pending_idx').on(table.createdAt).where(sql`${table.statusId} < 3`),
    // The daily prune finds finished submissions by when they finished (see pruneFinished).
    index('judge0_submissions_finished_idx')
      .on(sql`coalesce(${table.finishedAt}, ${table.createdAt})`)
      .where(sql`${table.statusId} >= 3`),
  ],
);

export type Judge0SubmissionRow = typeof judge0Submissions.$inferSelect;
export type Judge0SubmissionInsert = typeof judge0Submissions.$inferInsert;
