import { and, desc, eq, isNotNull } from 'drizzle-orm';
import type { Executor } from '../../platform/db/database.ts';
import { submissions } from './submissions.tables.ts';

export type SubmittedSource = {
  submissionId: string;
  userId: string;
  language: string;
  source: string;
  createdAt: Date;
};

/**
 * Programs as submitted, for modules that read code rather than verdicts (plagiarism). Only
 * sources and who wrote them: no test outcomes, so no hidden test data can pass through here.
 */
export function createSubmissionSources(db: Executor) {
  return {
    /**
     * Each user's latest judged submission per language (a verdict, so `completed` or
     * `failed`): what each student finally stood by, quiz code answers included.
     */
    async latestPerUser(challengeId: string): Promise<SubmittedSource[]> {
      return db
        .selectDistinctOn([submissions.userId, submissions.language], {
          submissionId: submissions.id,
          userId: submissions.userId,
          language: submissions.language,
          source: submissions.source,
          createdAt: submissions.createdAt,
        })
        .from(submissions)
        .where(and(eq(submissions.challengeId, challengeId), isNotNull(submissions.verdict)))
        .orderBy(
          submissions.userId,
          submissions.language,
          desc(submissions.createdAt),
          desc(submissions.id),
        );
    },
  };
}

export type SubmissionSources = ReturnType<typeof createSubmissionSources>;
