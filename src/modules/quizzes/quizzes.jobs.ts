import type { Transaction } from '../../platform/db/database.ts';
import type { Mailer } from '../../platform/mail/mailer.ts';
import { renderMail } from '../../platform/mail/render.ts';
import type { JobCatalogue, JobHandlers } from '../../platform/queue/queue.types.ts';
import type { UsersService } from '../users/users.service.ts';
import type { QuizzesService } from './quizzes.service.ts';

export type QuizzesJobs = {
  /** Emails students that a quiz was published: one page of students per job, chained. */
  'quizzes.announce': { quizId: string; cursor?: string };
};

export const quizzesJobCatalogue: JobCatalogue<QuizzesJobs> = {
  'quizzes.announce': { queue: 'mail', maxAttempts: 5, backoffMs: 10_000 },
};

/** The job id of one page: the same page is never queued twice. */
export const announceJobId = (quizId: string, cursor?: string) =>
  `quizzes.announce.${quizId}${cursor ? `.${cursor}` : ''}`;

export function createQuizzesJobHandlers(deps: {
  quizzes: QuizzesService;
  users: UsersService;
  mailer: Mailer;
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
      // A retry resends this page only; earlier pages are done jobs.
      for (const student of page.items) {
        if (student.status !== 'active') continue;
        await deps.mailer.send({
          to: student.email,
          subject: `New quiz: ${quiz.title}`,
          ...renderMail({
            title: `A new quiz is open: ${quiz.title}`,
            paragraphs: [
              `Hello ${student.name}, ${quiz.title} has been published on Assay.`,
              ...(quiz.description ? [quiz.description] : []),
              ...(quiz.durationMinutes !== null
                ? [`It is timed: ${quiz.durationMinutes} minutes once you start.`]
                : []),
              ...(quiz.closesAt ? [`It closes at ${quiz.closesAt} (UTC).`] : []),
            ],
          }),
        });
      }
      const next = page.nextCursor;
      if (next) {
        const dispatch = await context.transaction((tx) =>
          deps.enqueueAnnouncement(tx, { quizId: payload.quizId, cursor: next }),
        );
        await dispatch();
      }
      context.logger.info(
        { quizId: payload.quizId, sent: page.items.length, more: Boolean(next) },
        'announced a quiz',
      );
    },
  };
}
