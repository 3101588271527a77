import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Clock } from '../../platform/clock/clock.ts';
import type { Executor, Transaction } from '../../platform/db/database.ts';
import { createErrorFactory } from '../../platform/errors/errors.ts';
import type { Principal } from '../../platform/http/access.ts';
import { decodeCursor, toPage } from '../../platform/http/pagination.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import type { AttemptResult } from '../attempts/attempts.service.ts';
import type { JudgedSubmission } from '../submissions/submissions.service.ts';
import {
  type Channels,
  joinParagraphs,
  NOTIFICATION_KINDS,
  type NotificationContent,
  type NotificationKind,
  preferencesFrom,
  quizPublished,
  resultsAvailable,
  submissionJudged,
} from './notifications.models.ts';
import type { NotificationsRepository } from './notifications.repository.ts';
import type { NotificationRow } from './notifications.tables.ts';

export const notificationNotFound = createErrorFactory({
  code: 'NOTIFICATION_NOT_FOUND',
  status: 404,
  title: 'Notification not found',
});

export type AfterCommit = () => Promise<void>;

/** What notifications need to know of a quiz, read in the caller's transaction. */
export interface QuizFacts {
  quizFacts(
    executor: Executor,
    quizId: string,
  ): Promise<{ title: string; reviewPolicy: 'never' | 'after_submit' | 'after_close' } | undefined>;
}

const cursorSchema = z.object({ createdAt: z.iso.datetime(), id: z.string() });

const present = (row: NotificationRow) => ({
  id: row.id,
  kind: row.kind,
  title: row.title,
  body: row.body,
  link: row.link,
  data: row.data,
  read: row.readAt !== null,
  readAt: row.readAt?.toISOString() ?? null,
  createdAt: row.createdAt.toISOString(),
});

const sequence =
  (steps: AfterCommit[]): AfterCommit =>
  async () => {
    for (const step of steps) await step();
  };

export function createNotificationsService(deps: {
  repository: NotificationsRepository;
  quizzes: QuizFacts;
  /** Records the mail job of one notification in `tx`; returns its dispatch (after commit). */
  enqueueMail: (tx: Transaction, notificationId: string) => Promise<AfterCommit>;
  clock: Clock;
  logger: Logger;
}) {
  const { repository, clock } = deps;

  /**
   * Addresses one notification to users, in the transaction where its fact lands: an in-app row
   * for each (flagged email-only for those who turned in-app off) and a mail job for each who
   * wants email. Nobody who turned both off gets a row. A repeat writes and sends nothing.
   */
  const record = async (
    tx: Transaction,
    content: NotificationContent,
    userIds: readonly string[],
  ): Promise<AfterCommit> => {
    const stored = new Map<string, Channels>(
      (await repository.preferencesFor(content.kind, userIds, tx)).map((row) => [
        row.userId,
        { email: row.email, inApp: row.inApp },
      ]),
    );
    const now = clock.now();
    const wanted = userIds.filter((userId) => {
      const channels = stored.get(userId);
      return channels === undefined || channels.email || channels.inApp;
    });
    const inserted = await repository.insertMany(
      tx,
      wanted.map((userId) => ({
        id: randomUUID(),
        userId,
        kind: content.kind,
        subjectId: content.subjectId,
        title: content.title,
        body: joinParagraphs(content.paragraphs),
        link: content.link,
        data: content.data,
        inApp: stored.get(userId)?.inApp ?? true,
        createdAt: now,
      })),
    );
    const dispatches: AfterCommit[] = [];
    for (const row of inserted) {
      if (stored.get(row.userId)?.email === false) continue;
      dispatches.push(await deps.enqueueMail(tx, row.id));
    }
    return sequence(dispatches);
  };

  return {
    /** A page of students hears that a quiz was published (the quizzes module picks them). */
    async quizPublished(
      tx: Transaction,
      input: { quiz: Parameters<typeof quizPublished>[0]; userIds: readonly string[] },
    ): Promise<AfterCommit> {
      return record(tx, quizPublished(input.quiz), input.userIds);
    },

    /** An attempt's result landed: the attempts module calls this in the landing transaction. */
    async resultAvailable(
      tx: Transaction,
      result: Pick<AttemptResult, 'attemptId' | 'quizId' | 'userId' | 'status'>,
    ): Promise<AfterCommit> {
      const quiz = await deps.quizzes.quizFacts(tx, result.quizId);
      return record(
        tx,
        resultsAvailable({
          attemptId: result.attemptId,
          quizId: result.quizId,
          quizTitle: quiz?.title ?? 'a quiz',
          status: result.status,
          reviewPolicy: quiz?.reviewPolicy ?? 'never',
        }),
        [result.userId],
      );
    },

    /**
     * A submission was judged, in the judge's transaction. A quiz's code answer says nothing of
     * its own: the attempt's `results_available` covers it, and its verdict is a per-question
     * mark that the quiz's review policy may still be hiding.
     */
    async submissionJudged(
      tx: Transaction,
      judged: JudgedSubmission,
    ): Promise<AfterCommit | undefined> {
      if (judged.attemptId !== null) return undefined;
      return record(tx, submissionJudged(judged), [judged.userId]);
    },

    async list(
      principal: Principal,
      options: { unread?: boolean; limit: number; cursor?: string },
    ) {
      const before = decodeCursor(options.cursor, cursorSchema);
      const [rows, unreadCount] = await Promise.all([
        repository.list(principal.userId, {
          limit: options.limit + 1,
          ...(options.unread === undefined ? {} : { unread: options.unread }),
          ...(before ? { before: { createdAt: new Date(before.createdAt), id: before.id } } : {}),
        }),
        repository.unreadCount(principal.userId),
      ]);
      const page = toPage(rows, options.limit, present, (row) => ({
        createdAt: row.createdAt.toISOString(),
        id: row.id,
      }));
      return { ...page, unreadCount };
    },

    /** Someone else's notification does not exist, as far as the caller can tell. */
    async markRead(principal: Principal, id: string) {
      const row = await repository.markRead(principal.userId, id, clock.now());
      if (!row) throw notificationNotFound();
      return present(row);
    },

    async markAllRead(principal: Principal) {
      return { marked: await repository.markAllRead(principal.userId, clock.now()) };
    },

    async preferences(principal: Principal) {
      const current = preferencesFrom(await repository.preferencesOf(principal.userId));
      return presentPreferences(current);
    },

    /** Changes the listed kinds' channels; kinds and channels left out keep their value. */
    async updatePreferences(
      principal: Principal,
      changes: ReadonlyArray<{ kind: NotificationKind } & Partial<Channels>>,
    ) {
      const current = preferencesFrom(await repository.preferencesOf(principal.userId));
      const changed = new Map<NotificationKind, Channels>();
      for (const change of changes) {
        const base = changed.get(change.kind) ?? current[change.kind];
        changed.set(change.kind, {
          email: change.email ?? base.email,
          inApp: change.inApp ?? base.inApp,
        });
      }
      await repository.savePreferences(
        principal.userId,
        [...changed].map(([kind, channels]) => ({ kind, ...channels })),
        clock.now(),
      );
      for (const [kind, channels] of changed) current[kind] = channels;
      return presentPreferences(current);
    },

    /** For the mail job: the notification, if it still exists. */
    async find(id: string) {
      return repository.find(id);
    },

    /** Asked again when the mail goes out: an opt-out after the fact landed still holds. */
    async wantsEmail(userId: string, kind: NotificationKind): Promise<boolean> {
      const [row] = await repository.preferencesFor(kind, [userId]);
      return row?.email ?? true;
    },

    async markEmailed(tx: Transaction, id: string) {
      await repository.markEmailed(tx, id, clock.now());
    },
  };
}

function presentPreferences(preferences: Record<NotificationKind, Channels>) {
  return {
    preferences: NOTIFICATION_KINDS.map((kind) => ({ kind, ...preferences[kind] })),
  };
}

export type NotificationsService = ReturnType<typeof createNotificationsService>;
