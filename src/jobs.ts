import {
  type AttemptsJobs,
  attemptsJobCatalogue,
  attemptsSchedules,
  createAttemptsJobHandlers,
} from './modules/attempts/attempts.jobs.ts';
import type { AttemptsService } from './modules/attempts/attempts.service.ts';
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
export type AppJobs = MaintenanceJobs & AttemptsJobs;

export const appJobCatalogue: JobCatalogue<AppJobs> = {
  ...maintenanceJobCatalogue,
  ...attemptsJobCatalogue,
};

export const appSchedules: Schedule<AppJobs>[] = [...maintenanceSchedules, ...attemptsSchedules];

/** Events published after commit. Modules add their topics here. */
export type AppEvents = {
  'jobs.failed': { jobId: string; type: string };
  /** A user's role, status or password changed: drop cached auth state. */
  'users.changed': { userId: string };
};

export function createAppJobHandlers(deps: {
  ledger: JobLedger;
  attempts: AttemptsService;
}): JobHandlers<AppJobs> {
  return {
    ...createMaintenanceJobHandlers(deps),
    ...createAttemptsJobHandlers(deps),
  };
}
