import { isAppError } from '../../platform/errors/errors.ts';
import { MailError, type Mailer } from '../../platform/mail/mailer.ts';
import type { JobCatalogue, JobHandlers } from '../../platform/queue/queue.types.ts';
import type { UsersService } from '../users/users.service.ts';
import { mailOf } from './notifications.models.ts';
import type { NotificationsService } from './notifications.service.ts';

export type NotificationsJobs = {
  /** Emails one notification to its one recipient. */
  'notifications.mail': { notificationId: string };
};

export const notificationsJobCatalogue: JobCatalogue<NotificationsJobs> = {
  // 5 s, 10 s, 20 s … about 10 minutes in all: long enough to ride out an SMTP restart.
  'notifications.mail': { queue: 'mail', maxAttempts: 8, backoffMs: 5_000 },
};

/** One mail job per notification: recording it twice queues it once. */
export const mailJobId = (notificationId: string) => `notifications.mail.${notificationId}`;

/**
 * The server refused this message for good (a 5xx to the recipient or the content): retrying
 * cannot help. Connection, timeout and authentication failures are worth retrying.
 */
const refusedForGood = (error: unknown) =>
  error instanceof MailError &&
  (error.code === 'EENVELOPE' || error.code === 'EMESSAGE') &&
  error.responseCode !== undefined &&
  error.responseCode >= 500;

export function createNotificationsJobHandlers(deps: {
  notifications: NotificationsService;
  users: UsersService;
  mailer: Mailer;
}): JobHandlers<NotificationsJobs> {
  return {
    'notifications.mail': async ({ notificationId }, context) => {
      const notification = await deps.notifications.find(notificationId);
      if (!notification || notification.emailedAt) return;
      // Read now, not when the fact landed: a user disabled, deleted or opted out since hears nothing.
      // A deleted account is not found; any other failure (the database) is worth a retry.
      const user = await deps.users.get(notification.userId).catch((error: unknown) => {
        if (isAppError(error) && error.code === 'USER_NOT_FOUND') return undefined;
        throw error;
      });
      if (user?.status !== 'active') {
        context.logger.info({ notificationId }, 'recipient is not an active user: no mail');
        return;
      }
      if (!(await deps.notifications.wantsEmail(user.id, notification.kind))) {
        context.logger.info({ notificationId }, 'recipient opted out of this kind: no mail');
        return;
      }
      try {
        await deps.mailer.send({ to: user.email, ...mailOf(notification, user) });
      } catch (error) {
        if (!refusedForGood(error)) throw error;
        context.logger.error(
          { err: error, notificationId },
          'the mail server refused this notification for good',
        );
        return;
      }
      // A crash between the send and this commit sends once more on the retry: at least once.
      await context.transaction((tx) => deps.notifications.markEmailed(tx, notificationId));
    },
  };
}
