import { z } from 'zod';
import { pageQuery } from '../../platform/http/pagination.ts';
import { NOTIFICATION_KINDS } from './notifications.tables.ts';

const kind = z
  .enum(NOTIFICATION_KINDS)
  .describe(
    '`quiz_published` (to students), `results_available` (an attempt of yours was marked), `submission_judged` (a submission of yours to a challenge was judged; code answers inside a quiz are covered by the attempt’s `results_available` instead)',
  );

export const notificationItem = z
  .object({
    id: z.string(),
    kind,
    title: z.string(),
    body: z.string().describe('plain text; paragraphs separated by a blank line'),
    link: z.string().describe('the API path of what it is about'),
    data: z
      .object({
        quizId: z.string().optional(),
        attemptId: z.string().optional(),
        submissionId: z.string().optional(),
        challengeId: z.string().optional(),
        verdict: z.string().optional().describe('submission_judged only'),
        score: z.number().optional().describe('submission_judged only'),
        maxScore: z.number().optional().describe('submission_judged only'),
      })
      .describe(
        'ids to link from. A result’s score and marks are not here: fetch the result, which applies the quiz’s review policy',
      ),
    read: z.boolean(),
    readAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Notification' });

export const notificationsPage = z
  .object({
    items: z.array(notificationItem),
    nextCursor: z.string().nullable(),
    unreadCount: z.number().int().describe('all of your unread notifications, not just this page'),
  })
  .meta({ id: 'NotificationsPage' });

export const notificationsQuery = z.strictObject({
  unread: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional()
    .describe('true: only unread; false: only read; absent: all'),
  ...pageQuery,
});

export const notificationIdParams = z.strictObject({ id: z.string().min(1).max(100) });

const channels = {
  email: z.boolean().describe('send an email'),
  inApp: z.boolean().describe('show it in GET /notifications'),
};

export const preferencesResponse = z
  .object({
    preferences: z.array(z.object({ kind, ...channels })).describe('every kind, in a fixed order'),
  })
  .meta({ id: 'NotificationPreferences' });

export const preferencesBody = z.strictObject({
  preferences: z
    .array(
      z.strictObject({
        kind,
        email: channels.email.optional(),
        inApp: channels.inApp.optional(),
      }),
    )
    .max(NOTIFICATION_KINDS.length * 2)
    .describe('the kinds to change; kinds and channels left out keep their current value'),
});

export const readAllResponse = z.object({
  marked: z.number().int().describe('how many were unread and are now read'),
});
