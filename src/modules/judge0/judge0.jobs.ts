import type { JobCatalogue, JobContext, JobHandlers } from '../../platform/queue/queue.types.ts';
import type { Schedule } from '../../platform/scheduler/scheduler.ts';
import { type Judge0Service, RUN_ATTEMPTS } from './judge0.service.ts';

/** How long a finished Judge0 submission stays readable by its token. */
export const JUDGE0_RETENTION_DAYS = 7;

export type Judge0Jobs = {
  /** Runs one async Judge0 submission; the row holds everything, the payload only its token. */
  'judge0.run': { token: string };
  /** Deletes finished submissions past their retention (Judge0 clients poll soon after submitting). */
  'judge0.prune': { retentionDays: number };
};

export const judge0JobCatalogue: JobCatalogue<Judge0Jobs> = {
  // Runs share the `judge` queue with challenge judging: both need a machine with the sandbox.
  'judge0.run': { queue: 'judge', maxAttempts: RUN_ATTEMPTS, backoffMs: 2_000 },
  'judge0.prune': { queue: 'maintenance', maxAttempts: 3 },
};

export const judge0Schedules: Schedule<Judge0Jobs>[] = [
  {
    name: 'judge0-prune',
    everyMs: 3600 * 1000,
    type: 'judge0.prune',
    payload: { retentionDays: JUDGE0_RETENTION_DAYS },
  },
];

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
    'judge0.prune': async (payload, context) => {
      const removed = await deps.judge0.prune(payload.retentionDays * 24 * 3600 * 1000);
      context.logger.info({ removed }, 'pruned finished judge0 submissions');
    },
  };
}
