import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../../platform/http/access.ts';
import {
  notificationIdParams,
  notificationItem,
  notificationsPage,
  notificationsQuery,
  preferencesBody,
  preferencesResponse,
  readAllResponse,
} from './notifications.schemas.ts';
import type { NotificationsService } from './notifications.service.ts';

/** Everyone signed in has an inbox of their own; nobody sees or marks anyone else's. */
export function notificationsRoutes(deps: {
  notifications: NotificationsService;
}): FastifyPluginAsyncZod {
  const tags = ['notifications'];
  return async (app) => {
    app.get(
      '/notifications',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Your notifications, newest first',
          description:
            'In-app notifications of the caller only. Kinds you turned in-app off for (see `/notifications/preferences`) are not recorded here.',
          querystring: notificationsQuery,
          response: { 200: notificationsPage },
        },
      },
      async (request) => {
        const { unread, limit, cursor } = request.query;
        return deps.notifications.list(principalOf(request), {
          limit,
          ...(unread === undefined ? {} : { unread }),
          ...(cursor ? { cursor } : {}),
        });
      },
    );

    app.post(
      '/notifications/read-all',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Mark all your notifications read',
          response: { 200: readAllResponse },
        },
      },
      async (request) => deps.notifications.markAllRead(principalOf(request)),
    );

    app.post(
      '/notifications/:id/read',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Mark one of your notifications read',
          description:
            'Marking it again keeps the first `readAt`. Another user’s notification is `404`.',
          params: notificationIdParams,
          response: { 200: notificationItem },
        },
      },
      async (request) => deps.notifications.markRead(principalOf(request), request.params.id),
    );

    app.get(
      '/notifications/preferences',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Your notification preferences, per kind and channel',
          description: 'Every channel of every kind is on until you turn it off.',
          response: { 200: preferencesResponse },
        },
      },
      async (request) => deps.notifications.preferences(principalOf(request)),
    );

    app.put(
      '/notifications/preferences',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Turn email or in-app notifications of a kind on or off',
          description:
            'Opting out of email stops emails of that kind, including ones already queued and not yet sent. Opting out of in-app stops new in-app notifications of that kind; those already in your inbox stay.',
          body: preferencesBody,
          response: { 200: preferencesResponse },
        },
      },
      async (request) =>
        deps.notifications.updatePreferences(principalOf(request), request.body.preferences),
    );
  };
}
