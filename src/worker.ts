import type { Deps } from './deps.ts';
import { appSchedules, createAppJobHandlers } from './jobs.ts';
import { followLeaderboardSources } from './modules/leaderboards/leaderboards.jobs.ts';
import type { RunningWorker } from './platform/queue/job-queue.ts';
import { createTimerScheduler, type Scheduler } from './platform/scheduler/scheduler.ts';

export type WorkerRole = {
  worker: RunningWorker;
  scheduler: Scheduler;
  close(timeoutMs: number): Promise<void>;
};

/**
 * Starts job consumers for `queues` (all when omitted) and the periodic scheduler. Refuses to
 * start when any job type of those queues has no handler.
 */
export async function startWorkerRole(
  deps: Deps,
  options: { queues?: readonly string[] } = {},
): Promise<WorkerRole> {
  const worker = await deps.jobs.startWorker({
    handlers: createAppJobHandlers({
      ledger: deps.jobs.ledger,
      attempts: deps.attempts,
      quizzes: deps.quizzes,
      notifications: deps.notifications,
      users: deps.users,
      mailer: deps.mailer,
      judge0: deps.judge0,
      submissions: deps.submissions,
      leaderboards: deps.leaderboards,
      plagiarism: deps.plagiarism,
      enqueueAnnouncement: deps.enqueueAnnouncement,
    }),
    ...(options.queues ? { queues: options.queues } : {}),
    concurrency: deps.config.jobs.concurrency,
  });
  const scheduler = deps.redis
    ? (await import('./platform/scheduler/bullmq-scheduler.ts')).createBullmqScheduler({
        queue: deps.jobs,
        schedules: appSchedules,
        redis: deps.redis,
        logger: deps.logger,
      })
    : createTimerScheduler({
        queue: deps.jobs,
        schedules: appSchedules,
        clock: deps.clock,
        logger: deps.logger,
      });
  await scheduler.start();
  // Boards follow results as they land, wherever they land (the bus reaches every process).
  const stopFollowing = await followLeaderboardSources({
    events: {
      subscribeResults: (handler) => deps.events.subscribe('attempts.graded', handler),
      subscribeSubmissions: (handler) => deps.events.subscribe('submissions.changed', handler),
      subscribeUsers: (handler) => deps.events.subscribe('users.changed', handler),
    },
    enqueue: (payload, options) => deps.jobs.enqueue('leaderboards.sync-user', payload, options),
    onError: (error) => deps.logger.warn({ err: error }, 'could not queue a leaderboard sync'),
  });
  // Pick up whatever an earlier process left behind, without waiting for the first interval.
  await worker
    .sweep()
    .catch((error: unknown) => deps.logger.warn({ err: error }, 'initial sweep failed'));
  return {
    worker,
    scheduler,
    async close(timeoutMs) {
      await stopFollowing();
      await scheduler.stop();
      await worker.close(timeoutMs);
    },
  };
}
