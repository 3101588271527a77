import type { JobCatalogue, JobContext, JobHandlers } from '../../platform/queue/queue.types.ts';
import type { PlagiarismService, ReportRequest } from './plagiarism.service.ts';

export type PlagiarismJobs = {
  /** Recomputes a challenge's similarity report; the request id tells a stale job to stop. */
  'plagiarism.report': ReportRequest;
};

export const plagiarismJobCatalogue: JobCatalogue<PlagiarismJobs> = {
  // Its own queue: a class's worth of comparisons must not hold up judging.
  'plagiarism.report': { queue: 'plagiarism', maxAttempts: 3, backoffMs: 5_000 },
};

/** One job per request, however often it is enqueued. */
export const plagiarismReportJobId = (request: ReportRequest) =>
  `plagiarism.report.${request.challengeId}.${request.requestId}`;

export function createPlagiarismJobHandlers(deps: {
  plagiarism: PlagiarismService;
}): JobHandlers<PlagiarismJobs> {
  return {
    'plagiarism.report': Object.assign(
      (payload: ReportRequest, context: JobContext) =>
        deps.plagiarism.compute({
          request: payload,
          signal: context.signal,
          transaction: context.transaction,
          logger: context.logger,
        }),
      {
        gaveUp: (payload: ReportRequest, reason: string) =>
          deps.plagiarism.abandon(payload, reason),
      },
    ),
  };
}
