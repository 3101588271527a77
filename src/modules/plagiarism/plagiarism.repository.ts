import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import type { ReportPair } from './plagiarism.report.ts';
import { type PlagiarismReportRow, plagiarismReports } from './plagiarism.tables.ts';

const IN_PROGRESS = ['queued', 'running'] as const;

/** Data access for plagiarism reports. Every state change names the request it serves. */
export function createPlagiarismRepository(db: Executor) {
  return {
    async find(
      challengeId: string,
      executor: Executor = db,
    ): Promise<PlagiarismReportRow | undefined> {
      const [row] = await executor
        .select()
        .from(plagiarismReports)
        .where(eq(plagiarismReports.challengeId, challengeId));
      return row;
    },

    /**
     * Marks the report `queued` for a new request, unless one is already queued or running.
     * The conditional upsert makes two requests at once queue one recompute. Returns the row
     * when this request is the one queued.
     */
    async request(
      tx: Executor,
      input: { challengeId: string; requestId: string; requestedAt: Date },
    ): Promise<PlagiarismReportRow | undefined> {
      const [row] = await tx
        .insert(plagiarismReports)
        .values({ ...input, status: 'queued', pairs: [] })
        .onConflictDoUpdate({
          target: plagiarismReports.challengeId,
          set: {
            status: 'queued',
            requestId: input.requestId,
            requestedAt: input.requestedAt,
            error: null,
          },
          setWhere: sql`${plagiarismReports.status} not in ('queued', 'running')`,
        })
        .returning();
      return row;
    },

    /** Whether the request is still the one to serve (a retry finds it `running` already). */
    async start(challengeId: string, requestId: string): Promise<boolean> {
      const rows = await db
        .update(plagiarismReports)
        .set({ status: 'running' })
        .where(current(challengeId, requestId))
        .returning({ challengeId: plagiarismReports.challengeId });
      return rows.length === 1;
    },

    async complete(
      tx: Executor,
      input: {
        challengeId: string;
        requestId: string;
        pairs: ReportPair[];
        submissionsCompared: number;
        computedAt: Date;
      },
    ): Promise<boolean> {
      const rows = await tx
        .update(plagiarismReports)
        .set({
          status: 'completed',
          pairs: input.pairs,
          submissionsCompared: input.submissionsCompared,
          computedAt: input.computedAt,
          error: null,
        })
        .where(current(input.challengeId, input.requestId))
        .returning({ challengeId: plagiarismReports.challengeId });
      return rows.length === 1;
    },

    /** The recompute failed for good: the last completed report's pairs stay. */
    async fail(challengeId: string, requestId: string, error: string): Promise<void> {
      await db
        .update(plagiarismReports)
        .set({ status: 'failed', error })
        .where(current(challengeId, requestId));
    },
  };
}

const current = (challengeId: string, requestId: string) =>
  and(
    eq(plagiarismReports.challengeId, challengeId),
    eq(plagiarismReports.requestId, requestId),
    inArray(plagiarismReports.status, [...IN_PROGRESS]),
  );

export type PlagiarismRepository = ReturnType<typeof createPlagiarismRepository>;
