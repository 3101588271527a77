import type { Transaction } from '../../platform/db/database.ts';
import type { JobCatalogue, JobHandlers } from '../../platform/queue/queue.types.ts';
import type { UsersService } from '../users/users.service.ts';
import type { QuizzesService } from './quizzes.service.ts';

export type QuizzesJobs = {
  /** Tells students that a quiz was published: one page of students per job, chained. */
  'quizzes.announce': { quizId: string; cursor?: string };
};

export const quizzesJobCatalogue: JobCatalogue<QuizzesJobs> = {
  'quizzes.announce': { queue: 'mail', maxAttempts: 5, backoffMs: 10_000 },
};

/** The job id of one page: the same page is never queued twice. */
export const announceJobId = (quizId: string, cursor?: string) =>
  `quizzes.announce.${quizId}${cursor ? `.${cursor}` : ''}`;

type Announcement = NonNullable<Awaited<ReturnType<QuizzesService['announcement']>>>;

/** The notifications module: records a quiz_published notice (in-app + mail jobs) in `tx`. */
export interface PublishedNotices {
  quizPublished(
    tx: Transaction,
    input: { quiz: Announcement; userIds: readonly string[] },
  ): Promise<() => Promise<void>>;
}

export function createQuizzesJobHandlers(deps: {
  quizzes: QuizzesService;
  users: UsersService;
  notifications: PublishedNotices;
  /** Records the next page's job in the transaction that completes this one; returns its dispatch. */
  enqueueAnnouncement(
    tx: Transaction,
    payload: QuizzesJobs['quizzes.announce'],
  ): Promise<() => Promise<void>>;
  /** Students per job (tests use a small page to exercise the chain). */
  pageSize?: number;
}): JobHandlers<QuizzesJobs> {
  return {
    'quizzes.announce': async (payload, context) => {
      const quiz = await deps.quizzes.announcement(payload.quizId);
      if (!quiz) {
        context.logger.info(
          { quizId: payload.quizId },
          'quiz no longer published: no announcement',
        );
        return;
      }
      const page = await deps.users.list({
        role: 'student',
        limit: deps.pageSize ?? 100,
        ...(payload.cursor ? { cursor: payload.cursor } : {}),
      });
      const userIds = page.items
        .filter((student) => student.status === 'active')
        .map((student) => student.id);
      const next = page.nextCursor;
      // This page's notices (each with its own mail job) and the next page commit with this
      // job's completion: a retry or a second delivery records nothing twice.
      const dispatch = await context.transaction(async (tx) => {
        const notified = await deps.notifications.quizPublished(tx, { quiz, userIds });
        const chained = next
          ? await deps.enqueueAnnouncement(tx, { quizId: payload.quizId, cursor: next })
          : undefined;
        return async () => {
          await notified();
          await chained?.();
        };
      });
      await dispatch();
      context.logger.info(
        { quizId: payload.quizId, notified: userIds.length, more: Boolean(next) },
        'announced a quiz',
      );
    },
  };
}
