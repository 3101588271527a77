import { and, count, desc, eq, inArray, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../platform/db/database.ts';
import {
  type NotificationKind,
  type NotificationRow,
  notificationPreferences,
  notifications,
} from './notifications.tables.ts';

export type NotificationInsert = typeof notifications.$inferInsert;

export function createNotificationsRepository(db: Database) {
  const inbox = (userId: string): SQL =>
    and(eq(notifications.userId, userId), notifications.inApp)!;

  return {
    /** Rows already there (same user, kind and subject) are left alone; returns the new ones. */
    async insertMany(executor: Executor, rows: NotificationInsert[]): Promise<NotificationRow[]> {
      if (rows.length === 0) return [];
      return executor
        .insert(notifications)
        .values(rows)
        .onConflictDoNothing({
          target: [notifications.userId, notifications.kind, notifications.subjectId],
        })
        .returning();
    },

    async find(id: string): Promise<NotificationRow | undefined> {
      const [row] = await db.select().from(notifications).where(eq(notifications.id, id));
      return row;
    },

    async markEmailed(executor: Executor, id: string, at: Date): Promise<void> {
      await executor
        .update(notifications)
        .set({ emailedAt: at })
        .where(and(eq(notifications.id, id), isNull(notifications.emailedAt)));
    },

    /** The user's in-app notifications, newest first. */
    async list(
      userId: string,
      filter: { unread?: boolean; before?: { createdAt: Date; id: string }; limit: number },
    ): Promise<NotificationRow[]> {
      const conditions: SQL[] = [inbox(userId)];
      if (filter.unread === true) conditions.push(isNull(notifications.readAt));
      if (filter.unread === false) conditions.push(sql`${notifications.readAt} is not null`);
      if (filter.before) {
        const { createdAt, id } = filter.before;
        conditions.push(
          or(
            lt(notifications.createdAt, createdAt),
            and(eq(notifications.createdAt, createdAt), lt(notifications.id, id)),
          )!,
        );
      }
      return db
        .select()
        .from(notifications)
        .where(and(...conditions))
        .orderBy(desc(notifications.createdAt), desc(notifications.id))
        .limit(filter.limit);
    },

    async unreadCount(userId: string): Promise<number> {
      const [row] = await db
        .select({ value: count() })
        .from(notifications)
        .where(and(inbox(userId), isNull(notifications.readAt)));
      return row?.value ?? 0;
    },

    /** Marks one of the user's own notifications read (a second time keeps the first time). */
    async markRead(userId: string, id: string, at: Date): Promise<NotificationRow | undefined> {
      const [row] = await db
        .update(notifications)
        .set({ readAt: sql`coalesce(${notifications.readAt}, ${at.toISOString()}::timestamptz)` })
        .where(and(eq(notifications.id, id), inbox(userId)))
        .returning();
      return row;
    },

    async markAllRead(userId: string, at: Date): Promise<number> {
      const rows = await db
        .update(notifications)
        .set({ readAt: at })
        .where(and(inbox(userId), isNull(notifications.readAt)))
        .returning({ id: notifications.id });
      return rows.length;
    },

    async preferencesOf(userId: string, executor: Executor = db) {
      return executor
        .select()
        .from(notificationPreferences)
        .where(eq(notificationPreferences.userId, userId));
    },

    /** The stored choices of these users for one kind (users without a row have none stored). */
    async preferencesFor(
      kind: NotificationKind,
      userIds: readonly string[],
      executor: Executor = db,
    ) {
      if (userIds.length === 0) return [];
      return executor
        .select()
        .from(notificationPreferences)
        .where(
          and(
            eq(notificationPreferences.kind, kind),
            inArray(notificationPreferences.userId, [...userIds]),
          ),
        );
    },

    async savePreferences(
      userId: string,
      rows: Array<{ kind: NotificationKind; email: boolean; inApp: boolean }>,
      at: Date,
    ): Promise<void> {
      if (rows.length === 0) return;
      await db
        .insert(notificationPreferences)
        .values(rows.map((row) => ({ ...row, userId, updatedAt: at })))
        .onConflictDoUpdate({
          target: [notificationPreferences.userId, notificationPreferences.kind],
          set: {
            email: sql`excluded.email`,
            inApp: sql`excluded.in_app`,
            updatedAt: sql`excluded.updated_at`,
          },
        });
    },
  };
}

export type NotificationsRepository = ReturnType<typeof createNotificationsRepository>;
