import { eq } from 'drizzle-orm';
import { simpleParser } from 'mailparser';
import { type AppJobs, appJobCatalogue } from '../../src/jobs.ts';
import { createNotificationsJobHandlers } from '../../src/modules/notifications/notifications.jobs.ts';
import { createQuizzesJobHandlers } from '../../src/modules/quizzes/quizzes.jobs.ts';
import { createJobQueue, type RunningWorker } from '../../src/platform/queue/job-queue.ts';
import { jobs } from '../../src/platform/queue/jobs.tables.ts';
import type { TestApp } from './app.ts';
import { bearer, type Tokens } from './auth.ts';
import { createQuestion, createQuiz, saveAnswer, startAttempt, submitAttempt } from './quizzes.ts';
import type { ReceivedMail, TestSmtpServer } from './smtp-server.ts';

/**
 * A worker of the `mail` queue with the app's real handlers, on a queue whose mail retries wait
 * 50 ms instead of seconds (the ledger and the handlers are the app's; only the backoff differs).
 */
export function startMailWorker(t: TestApp, options: { pageSize?: number } = {}) {
  const queue = createJobQueue<AppJobs>({
    db: t.deps.database.db,
    driver: t.deps.driver,
    catalogue: {
      ...appJobCatalogue,
      'notifications.mail': { ...appJobCatalogue['notifications.mail'], backoffMs: 50 },
    },
    logger: t.deps.logger.child({ component: 'test-mail-worker' }),
    leaseMs: t.deps.config.jobs.leaseMs,
    sweepIntervalMs: 60_000,
  });
  return queue.startWorker({
    handlers: {
      ...createQuizzesJobHandlers({
        ...t.deps,
        ...(options.pageSize ? { pageSize: options.pageSize } : {}),
      }),
      ...createNotificationsJobHandlers(t.deps),
    },
    queues: ['mail'],
    concurrency: 2,
  }) satisfies Promise<RunningWorker>;
}

export type ParsedMail = {
  to: string[];
  subject: string;
  text: string;
  html: string;
  raw: string;
};

export async function parse(mail: ReceivedMail): Promise<ParsedMail> {
  const parsed = await simpleParser(mail.raw);
  return {
    to: mail.envelope.to,
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: parsed.html || '',
    raw: mail.raw.toString('utf8'),
  };
}

/** The mails the server accepted for `email`, parsed. */
export const mailsTo = (smtp: TestSmtpServer, email: string) =>
  Promise.all(smtp.messages.filter((mail) => mail.envelope.to.includes(email)).map(parse));

/** Waits for the first mail to `email` whose subject matches. */
export const waitForMail = async (smtp: TestSmtpServer, email: string, subject: string) =>
  parse(
    await smtp.waitForMessage(
      (mail) => mail.envelope.to.includes(email) && mail.raw.toString('utf8').includes(subject),
      15_000,
    ),
  );

export const inbox = async (t: TestApp, who: Tokens, query = '') => {
  const response = await t.app.inject({
    url: `/api/v1/notifications${query}`,
    headers: bearer(who),
  });
  if (response.statusCode !== 200)
    throw new Error(`notifications: ${response.statusCode} ${response.body}`);
  return response.json() as {
    items: Array<{
      id: string;
      kind: string;
      title: string;
      body: string;
      link: string;
      data: Record<string, unknown>;
      read: boolean;
      readAt: string | null;
      createdAt: string;
    }>;
    nextCursor: string | null;
    unreadCount: number;
  };
};

export const setPreferences = (
  t: TestApp,
  who: Tokens,
  preferences: Array<{ kind: string; email?: boolean; inApp?: boolean }>,
) =>
  t.app.inject({
    method: 'PUT',
    url: '/api/v1/notifications/preferences',
    headers: bearer(who),
    payload: { preferences },
  });

/** A one-question quiz (published) taken and submitted by `student`: its result lands at once. */
export async function takeQuiz(
  t: TestApp,
  author: Tokens,
  student: Tokens,
  options: { title: string; reviewPolicy?: 'never' | 'after_submit' | 'after_close' },
) {
  const question = await createQuestion(t, author, {
    type: 'true_false',
    prompt: 'Is seven prime?',
    correct: true,
    points: 7,
  });
  const quiz = await createQuiz(t, author, {
    title: options.title,
    reviewPolicy: options.reviewPolicy ?? 'after_submit',
    questions: [{ questionId: question.id }],
  });
  const attempt = (await startAttempt(t, student, quiz.id)).json() as { id: string };
  await saveAnswer(t, student, attempt.id, question.id, true);
  const submitted = await submitAttempt(t, student, attempt.id);
  if (submitted.statusCode !== 200)
    throw new Error(`submit: ${submitted.statusCode} ${submitted.body}`);
  return { quizId: quiz.id, attemptId: attempt.id };
}

/** The jobs of the `mail` queue, as the ledger holds them. */
export const mailJobs = (t: TestApp) =>
  t.deps.database.db
    .select({ type: jobs.type, status: jobs.status, attempts: jobs.attempts })
    .from(jobs)
    .where(eq(jobs.queue, 'mail'));

/** Whether every mail job has finished (completed or failed for good). */
export const mailQueueSettled = async (t: TestApp) =>
  (await mailJobs(t)).every((job) => job.status === 'completed' || job.status === 'failed');
