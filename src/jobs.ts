import {
  type AttemptsJobs,
  attemptsJobCatalogue,
  attemptsSchedules,
  createAttemptsJobHandlers,
} from './modules/attempts/attempts.jobs.ts';
import type { AttemptResult, AttemptsService } from './modules/attempts/attempts.service.ts';
import {
  createJudge0JobHandlers,
  type Judge0Jobs,
  judge0JobCatalogue,
  judge0Schedules,
} from './modules/judge0/judge0.jobs.ts';
import type { Judge0Service } from './modules/judge0/judge0.service.ts';
import {
  createLeaderboardsJobHandlers,
  type LeaderboardsJobs,
  leaderboardsJobCatalogue,
  leaderboardsSchedules,
} from './modules/leaderboards/leaderboards.jobs.ts';
import type {
  LeaderboardChange,
  LeaderboardsService,
} from './modules/leaderboards/leaderboards.service.ts';
import {
  createMaintenanceJobHandlers,
  type MaintenanceJobs,
  maintenanceJobCatalogue,
  maintenanceSchedules,
} from './modules/maintenance/maintenance.jobs.ts';
import {
  createNotificationsJobHandlers,
  type NotificationsJobs,
  notificationsJobCatalogue,
} from './modules/notifications/notifications.jobs.ts';
import type { NotificationsService } from './modules/notifications/notifications.service.ts';
import {
  createPlagiarismJobHandlers,
  type PlagiarismJobs,
  plagiarismJobCatalogue,
} from './modules/plagiarism/plagiarism.jobs.ts';
import type { PlagiarismService } from './modules/plagiarism/plagiarism.service.ts';
import {
  createQuizzesJobHandlers,
  type QuizzesJobs,
  quizzesJobCatalogue,
} from './modules/quizzes/quizzes.jobs.ts';
import type { QuizzesService } from './modules/quizzes/quizzes.service.ts';
import {
  createSubmissionsJobHandlers,
  type SubmissionsJobs,
  submissionsJobCatalogue,
} from './modules/submissions/submissions.jobs.ts';
import type {
  SubmissionEvent,
  SubmissionsService,
} from './modules/submissions/submissions.service.ts';
import type { UsersService } from './modules/users/users.service.ts';
import type { Transaction } from './platform/db/database.ts';
import type { Mailer } from './platform/mail/mailer.ts';
import type { JobLedger } from './platform/queue/job-ledger.ts';
import type { JobCatalogue, JobHandlers } from './platform/queue/queue.types.ts';
import type { Schedule } from './platform/scheduler/scheduler.ts';

/** Every job type of every module. A module adds its map here and its handlers below. */
export type AppJobs = MaintenanceJobs &
  AttemptsJobs &
  QuizzesJobs &
  NotificationsJobs &
  Judge0Jobs &
  SubmissionsJobs &
  LeaderboardsJobs &
  PlagiarismJobs;

export const appJobCatalogue: JobCatalogue<AppJobs> = {
  ...maintenanceJobCatalogue,
  ...attemptsJobCatalogue,
  ...quizzesJobCatalogue,
  ...notificationsJobCatalogue,
  ...judge0JobCatalogue,
  ...submissionsJobCatalogue,
  ...leaderboardsJobCatalogue,
  ...plagiarismJobCatalogue,
};

export const appSchedules: Schedule<AppJobs>[] = [
  ...maintenanceSchedules,
  ...attemptsSchedules,
  ...judge0Schedules,
  ...leaderboardsSchedules,
];

/** Events published after commit. Modules add their topics here. */
export type AppEvents = {
  'jobs.failed': { jobId: string; type: string };
  /** A user's role, status or password changed: drop cached auth state. */
  'users.changed': { userId: string };
  /** A submission was queued, started, finished a test, or was judged. */
  'submissions.changed': SubmissionEvent;
  /** An attempt's result landed (graded, or expired by the timer), code answers included. */
  'attempts.graded': AttemptResult;
  /** Boards changed (a result landed, a rebuild repaired them): streams and caches follow. */
  'leaderboards.changed': LeaderboardChange;
};

export function createAppJobHandlers(deps: {
  ledger: JobLedger;
  attempts: AttemptsService;
  quizzes: QuizzesService;
  notifications: NotificationsService;
  users: UsersService;
  mailer: Mailer;
  judge0: Judge0Service;
  submissions: SubmissionsService;
  leaderboards: LeaderboardsService;
  plagiarism: PlagiarismService;
  enqueueAnnouncement(
    tx: Transaction,
    payload: QuizzesJobs['quizzes.announce'],
  ): Promise<() => Promise<void>>;
}): JobHandlers<AppJobs> {
  return {
    ...createMaintenanceJobHandlers(deps),
    ...createAttemptsJobHandlers(deps),
    ...createQuizzesJobHandlers(deps),
    ...createNotificationsJobHandlers(deps),
    ...createJudge0JobHandlers(deps),
    ...createSubmissionsJobHandlers(deps),
    ...createLeaderboardsJobHandlers(deps),
    ...createPlagiarismJobHandlers(deps),
  };
}
