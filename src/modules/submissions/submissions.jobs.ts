import type { JobCatalogue, JobContext, JobHandlers } from '../../platform/queue/queue.types.ts';
import { JUDGE_ATTEMPTS, type SubmissionsService } from './submissions.service.ts';

export type SubmissionsJobs = {
  /** Judges one submission; the row holds everything, the payload only its id. */
  'submissions.judge': { submissionId: string };
};

export const submissionsJobCatalogue: JobCatalogue<SubmissionsJobs> = {
  // The submission row keeps the job: its status, lease and tries (see `judge`).
  'submissions.judge': {
    queue: 'judge',
    maxAttempts: JUDGE_ATTEMPTS,
    backoffMs: 2_000,
    keptBy: 'owner',
  },
};

/** One job per submission, however often it is enqueued. */
export const judgeJobId = (submissionId: string) => `submissions.judge.${submissionId}`;

export function createSubmissionsJobHandlers(deps: {
  submissions: SubmissionsService;
}): JobHandlers<SubmissionsJobs> {
  return {
    'submissions.judge': Object.assign(
      (payload: SubmissionsJobs['submissions.judge'], context: JobContext) =>
        deps.submissions.judge({
          submissionId: payload.submissionId,
          leaseMs: context.leaseMs,
          logger: context.logger,
        }),
      {
        gaveUp: (payload: SubmissionsJobs['submissions.judge'], reason: string) =>
          deps.submissions.giveUp(payload.submissionId, reason),
        stranded: async ({ graceMs, limit }: { graceMs: number; limit: number }) =>
          (await deps.submissions.stranded(graceMs, limit)).map((row) => ({
            jobId: judgeJobId(row.id),
            payload: { submissionId: row.id },
            tries: row.tries,
          })),
      },
    ),
  };
}
