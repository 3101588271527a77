import type { JobLedger } from '../../platform/queue/job-ledger.ts';
import type { JobCatalogue, JobHandlers } from '../../platform/queue/queue.types.ts';
import type { Schedule } from '../../platform/scheduler/scheduler.ts';

export type MaintenanceJobs = {
  /** Deletes finished ledger rows past their retention. */
  'maintenance.prune-jobs': { completedRetentionDays: number; failedRetentionDays: number };
};

export const maintenanceJobCatalogue: JobCatalogue<MaintenanceJobs> = {
  'maintenance.prune-jobs': { queue: 'maintenance', maxAttempts: 3 },
};

const DAY_MS = 24 * 3600 * 1000;

export const maintenanceSchedules: Schedule<MaintenanceJobs>[] = [
  {
    name: 'prune-jobs',
    everyMs: 3600 * 1000,
    type: 'maintenance.prune-jobs',
    payload: { completedRetentionDays: 7, failedRetentionDays: 30 },
  },
];

export function createMaintenanceJobHandlers(deps: {
  ledger: JobLedger;
}): JobHandlers<MaintenanceJobs> {
  return {
    'maintenance.prune-jobs': async (payload, context) => {
      const removed = await deps.ledger.pruneFinished({
        completedOlderThanMs: payload.completedRetentionDays * DAY_MS,
        failedOlderThanMs: payload.failedRetentionDays * DAY_MS,
      });
      context.logger.info({ removed }, 'pruned finished jobs');
    },
  };
}
