import { and, desc, eq, inArray, lt, or, type SQL } from 'drizzle-orm';
import type { Database, Executor } from '../../platform/db/database.ts';
import { type AttendanceRow, attendance } from './attendance.tables.ts';

export type AttendanceInsert = typeof attendance.$inferInsert;
export type AttendanceFilter = {
  quizId?: string;
  userId?: string;
  status?: AttendanceRow['status'];
  /** Only these quizzes (an instructor's own). */
  quizIds?: string[];
};

export function createAttendanceRepository(db: Database) {
  return {
    /** The plain connection, for inserts outside another module's transaction. */
    executor: db as Executor,

    async insert(executor: Executor, row: AttendanceInsert): Promise<AttendanceRow | undefined> {
      const [inserted] = await executor
        .insert(attendance)
        .values(row)
        .onConflictDoNothing()
        .returning();
      return inserted;
    },

    async find(id: string): Promise<AttendanceRow | undefined> {
      const [row] = await db.select().from(attendance).where(eq(attendance.id, id));
      return row;
    },

    async update(id: string, changes: Partial<AttendanceInsert>) {
      const [row] = await db
        .update(attendance)
        .set(changes)
        .where(eq(attendance.id, id))
        .returning();
      return row;
    },

    async remove(id: string): Promise<boolean> {
      const rows = await db
        .delete(attendance)
        .where(eq(attendance.id, id))
        .returning({ id: attendance.id });
      return rows.length === 1;
    },

    async list(
      filter: AttendanceFilter,
      page: { limit: number; after?: { timestamp: Date; id: string } },
    ): Promise<AttendanceRow[]> {
      const conditions: SQL[] = [];
      if (filter.quizId) conditions.push(eq(attendance.quizId, filter.quizId));
      if (filter.userId) conditions.push(eq(attendance.userId, filter.userId));
      if (filter.status) conditions.push(eq(attendance.status, filter.status));
      if (filter.quizIds) {
        if (filter.quizIds.length === 0) return [];
        conditions.push(inArray(attendance.quizId, filter.quizIds));
      }
      if (page.after) {
        conditions.push(
          or(
            lt(attendance.timestamp, page.after.timestamp),
            and(eq(attendance.timestamp, page.after.timestamp), lt(attendance.id, page.after.id)),
          )!,
        );
      }
      return db
        .select()
        .from(attendance)
        .where(and(...conditions))
        .orderBy(desc(attendance.timestamp), desc(attendance.id))
        .limit(page.limit);
    },
  };
}

export type AttendanceRepository = ReturnType<typeof createAttendanceRepository>;
