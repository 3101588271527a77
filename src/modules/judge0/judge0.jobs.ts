import type { JobCatalogue, JobContext, JobHandlers } from '../../platform/queue/queue.types.ts';
import { type Judge0Service, RUN_ATTEMPTS } from './judge0.service.ts';

export type Judge0Jobs = {
  /** Runs one async Judge0 submission; the row holds everything, the payload only its token. */
  'judge0.run': { token: string };
};

export const judge0JobCatalogue: JobCatalogue<Judge0Jobs> = {
  // Runs share the `judge` queue with challenge judging: both need a machine with the sandbox.
  'judge0.run': { queue: 'judge', maxAttempts: RUN_ATTEMPTS, backoffMs: 2_000 },
};

/** One job per submission, however often it is enqueued. */
export const judge0RunJobId = (token: string) => `judge0.run.${token}`;

export function createJudge0JobHandlers(deps: { judge0: Judge0Service }): JobHandlers<Judge0Jobs> {
  return {
    'judge0.run': Object.assign(
      (payload: Judge0Jobs['judge0.run'], context: JobContext) =>
        deps.judge0.run({
          token: payload.token,
          attempt: context.attempt,
          transaction: context.transaction,
          logger: context.logger,
        }),
      {
        gaveUp: (payload: Judge0Jobs['judge0.run'], reason: string) =>
          deps.judge0.abandon(payload.token, reason),
      },
    ),
  };
}
