import type { JobCatalogue, JobHandlers } from '../../platform/queue/queue.types.ts';
import type { Schedule } from '../../platform/scheduler/scheduler.ts';
import type { AttemptsService } from './attempts.service.ts';

export type AttemptsJobs = {
  /** Submits attempts whose time ran out, for students who never came back. */
  'attempts.close-overdue': { batch: number };
};

export const attemptsJobCatalogue: JobCatalogue<AttemptsJobs> = {
  'attempts.close-overdue': { queue: 'maintenance', maxAttempts: 3, backoffMs: 5_000 },
};

/** Every 30 s, so an abandoned attempt is submitted within a minute of its end (plus grace). */
export const attemptsSchedules: Schedule<AttemptsJobs>[] = [
  {
    name: 'close-overdue-attempts',
    everyMs: 30_000,
    type: 'attempts.close-overdue',
    payload: { batch: 500 },
  },
];

export function createAttemptsJobHandlers(deps: {
  attempts: AttemptsService;
}): JobHandlers<AttemptsJobs> {
  return {
    'attempts.close-overdue': async (payload, context) => {
      // A full batch means more are waiting: keep going until a short one, within this run.
      let total = 0;
      for (;;) {
        const closed = await deps.attempts.closeOverdue(payload.batch);
        total += closed;
        if (closed < payload.batch || context.signal.aborted) break;
      }
      if (total > 0) context.logger.info({ closed: total }, 'closed overdue attempts');
    },
  };
}
