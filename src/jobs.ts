import {
  createMaintenanceJobHandlers,
  type MaintenanceJobs,
  maintenanceJobCatalogue,
  maintenanceSchedules,
} from './modules/maintenance/maintenance.jobs.ts';
import type { JobLedger } from './platform/queue/job-ledger.ts';
import type { JobCatalogue, JobHandlers } from './platform/queue/queue.types.ts';
import type { Schedule } from './platform/scheduler/scheduler.ts';

/** Every job type of every module. A module adds its map here and its handlers below. */
export type AppJobs = MaintenanceJobs;

export const appJobCatalogue: JobCatalogue<AppJobs> = {
  ...maintenanceJobCatalogue,
};

export const appSchedules: Schedule<AppJobs>[] = [...maintenanceSchedules];

/** Events published after commit. Modules add their topics here. */
export type AppEvents = {
  'jobs.failed': { jobId: string; type: string };
  /** A user's role, status or password changed: drop cached auth state. */
  'users.changed': { userId: string };
};

export function createAppJobHandlers(deps: { ledger: JobLedger }): JobHandlers<AppJobs> {
  return {
    ...createMaintenanceJobHandlers(deps),
  };
}
