import type { JobCatalogue, JobHandlers } from '../../platform/queue/queue.types.ts';
import type { Schedule } from '../../platform/scheduler/scheduler.ts';
import type { AttemptResult } from '../attempts/attempts.service.ts';
import type { SubmissionEvent } from '../submissions/submissions.service.ts';
import type { LeaderboardsService } from './leaderboards.service.ts';

export type LeaderboardsJobs = {
  /** Recomputes one user's entries (every board their results touch) from the database. */
  'leaderboards.sync-user': { userId: string };
  /** Recomputes every board and repairs drift (lost events, a wiped Redis, deleted quizzes). */
  'leaderboards.reconcile': { reason: string };
};

export const leaderboardsJobCatalogue: JobCatalogue<LeaderboardsJobs> = {
  // A queue of its own: a board update never waits behind mail or maintenance.
  'leaderboards.sync-user': { queue: 'leaderboards', maxAttempts: 5, backoffMs: 1_000 },
  'leaderboards.reconcile': { queue: 'maintenance', maxAttempts: 2, backoffMs: 30_000 },
};

export const leaderboardsSchedules: Schedule<LeaderboardsJobs>[] = [
  {
    name: 'reconcile-leaderboards',
    everyMs: 5 * 60_000,
    type: 'leaderboards.reconcile',
    payload: { reason: 'schedule' },
  },
];

export function createLeaderboardsJobHandlers(deps: {
  leaderboards: LeaderboardsService;
}): JobHandlers<LeaderboardsJobs> {
  return {
    'leaderboards.sync-user': async (payload, context) => {
      const boards = await deps.leaderboards.syncUser(payload.userId);
      if (boards.length > 0) context.logger.debug({ boards }, 'leaderboards updated');
    },
    'leaderboards.reconcile': async (_payload, context) => {
      const outcome = await deps.leaderboards.rebuild();
      const log = outcome.writes > 0 ? context.logger.info : context.logger.debug;
      log.call(context.logger, outcome, 'leaderboards reconciled');
    },
  };
}

/** The events a board follows, as the bus delivers them to every worker process. */
export type LeaderboardSourceEvents = {
  subscribeResults(handler: (result: AttemptResult) => void): Promise<() => Promise<void>>;
  subscribeSubmissions(handler: (event: SubmissionEvent) => void): Promise<() => Promise<void>>;
  subscribeUsers(handler: (event: { userId: string }) => void): Promise<() => Promise<void>>;
};

/** How long a user change waits, so changes close together are read by one sync. */
const USER_CHANGE_WINDOW_MS = 1_000;

/**
 * Boards follow results as they land, not by polling: each event becomes a sync job. Every
 * worker process hears every event; the job id derived from the event makes them one job.
 * A user change (renamed, disabled, deleted, role changed) has no id of its own: it is synced
 * once at the end of the second it happened in, which also covers later changes that second.
 */
export async function followLeaderboardSources(deps: {
  events: LeaderboardSourceEvents;
  enqueue: (
    payload: LeaderboardsJobs['leaderboards.sync-user'],
    options: { jobId: string; delayMs?: number },
  ) => Promise<unknown>;
  onError: (error: unknown) => void;
  /** Wall-clock milliseconds (the debounce window is real time, not the app's clock). */
  now?: () => number;
}): Promise<() => Promise<void>> {
  const now = deps.now ?? Date.now;
  const enqueue = (userId: string, jobId: string, delayMs?: number) => {
    deps
      .enqueue({ userId }, { jobId, ...(delayMs === undefined ? {} : { delayMs }) })
      .catch(deps.onError);
  };
  const stops = await Promise.all([
    deps.events.subscribeResults((result) =>
      enqueue(result.userId, `leaderboards.sync.attempt.${result.attemptId}`),
    ),
    deps.events.subscribeSubmissions((event) => {
      if (event.status === 'completed')
        enqueue(event.userId, `leaderboards.sync.submission.${event.submissionId}`);
    }),
    deps.events.subscribeUsers(({ userId }) => {
      const at = now();
      const window = Math.floor(at / USER_CHANGE_WINDOW_MS);
      enqueue(
        userId,
        `leaderboards.sync.user.${userId}.${window}`,
        (window + 1) * USER_CHANGE_WINDOW_MS - at + 50,
      );
    }),
  ]);
  return async () => {
    for (const stop of stops) await stop();
  };
}
