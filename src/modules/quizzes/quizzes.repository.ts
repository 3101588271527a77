import { and, desc, eq, inArray, isNull, lt, or, type SQL, sql } from 'drizzle-orm';
import type { Database, Executor, Transaction } from '../../platform/db/database.ts';
import { type QuizRow, quizzes } from './quizzes.tables.ts';

export type QuizInsert = typeof quizzes.$inferInsert;
export type QuizVisibility =
  | { kind: 'all' }
  | { kind: 'author'; userId: string }
  | { kind: 'open'; now: Date };

/** Published, and its window (if any) contains `now`. */
const openAt = (now: Date): SQL =>
  and(
    eq(quizzes.status, 'published'),
    or(isNull(quizzes.opensAt), sql`${quizzes.opensAt} <= ${now}`),
    or(isNull(quizzes.closesAt), sql`${quizzes.closesAt} > ${now}`),
  )!;

const visibleTo = (visibility: QuizVisibility): SQL | undefined =>
  visibility.kind === 'author'
    ? eq(quizzes.createdBy, visibility.userId)
    : visibility.kind === 'open'
      ? openAt(visibility.now)
      : undefined;

export function createQuizzesRepository(db: Database) {
  return {
    async insert(row: QuizInsert): Promise<QuizRow> {
      const [inserted] = await db.insert(quizzes).values(row).returning();
      return inserted!;
    },

    async findLive(
      id: string,
      visibility: QuizVisibility = { kind: 'all' },
    ): Promise<QuizRow | undefined> {
      const condition = visibleTo(visibility);
      const [row] = await db
        .select()
        .from(quizzes)
        .where(
          and(eq(quizzes.id, id), isNull(quizzes.deletedAt), ...(condition ? [condition] : [])),
        );
      return row;
    },

    async list(filter: {
      visibility: QuizVisibility;
      status?: QuizRow['status'];
      limit: number;
      after?: { createdAt: Date; id: string };
    }): Promise<QuizRow[]> {
      const conditions: SQL[] = [isNull(quizzes.deletedAt)];
      const visible = visibleTo(filter.visibility);
      if (visible) conditions.push(visible);
      if (filter.status) conditions.push(eq(quizzes.status, filter.status));
      if (filter.after) {
        const { createdAt, id } = filter.after;
        conditions.push(
          or(
            lt(quizzes.createdAt, createdAt),
            and(eq(quizzes.createdAt, createdAt), lt(quizzes.id, id)),
          )!,
        );
      }
      return db
        .select()
        .from(quizzes)
        .where(and(...conditions))
        .orderBy(desc(quizzes.createdAt), desc(quizzes.id))
        .limit(filter.limit);
    },

    /** With `contentFrozenAfterAttempts`, changes nothing once an attempt exists (checked in the same statement). */
    async update(
      id: string,
      changes: Partial<QuizInsert>,
      options: { contentFrozenAfterAttempts?: boolean } = {},
    ): Promise<QuizRow | undefined> {
      const [row] = await db
        .update(quizzes)
        .set(changes)
        .where(
          and(
            eq(quizzes.id, id),
            isNull(quizzes.deletedAt),
            ...(options.contentFrozenAfterAttempts ? [isNull(quizzes.firstAttemptAt)] : []),
          ),
        )
        .returning();
      return row;
    },

    /**
     * Records the first attempt, taking the row lock that orders it against a concurrent edit.
     * Returns the quiz's `updatedAt` when this call was the first, undefined otherwise.
     */
    async markTaken(executor: Executor, id: string, at: Date): Promise<Date | undefined> {
      const [row] = await executor
        .update(quizzes)
        .set({ firstAttemptAt: at })
        .where(and(eq(quizzes.id, id), isNull(quizzes.firstAttemptAt)))
        .returning({ updatedAt: quizzes.updatedAt });
      return row?.updatedAt;
    },

    /** Deleted or not: attempts keep working with the quiz they started. */
    async find(id: string, executor: Executor = db): Promise<QuizRow | undefined> {
      const [row] = await executor.select().from(quizzes).where(eq(quizzes.id, id));
      return row;
    },

    /** Deleted or not. */
    async findMany(ids: readonly string[]): Promise<QuizRow[]> {
      if (ids.length === 0) return [];
      return db
        .select()
        .from(quizzes)
        .where(inArray(quizzes.id, [...ids]));
    },

    /** Live quizzes (not deleted) by status. */
    async countByStatus(): Promise<Array<{ status: QuizRow['status']; count: number }>> {
      const rows = await db
        .select({ status: quizzes.status, count: sql<number>`count(*)::int` })
        .from(quizzes)
        .where(isNull(quizzes.deletedAt))
        .groupBy(quizzes.status);
      return rows.map((row) => ({ status: row.status, count: Number(row.count) }));
    },

    async idsAuthoredBy(userId: string): Promise<string[]> {
      const rows = await db
        .select({ id: quizzes.id })
        .from(quizzes)
        .where(eq(quizzes.createdBy, userId));
      return rows.map((row) => row.id);
    },

    transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
      return db.transaction(work);
    },

    /** Draft → published, once: a second publish changes nothing. */
    async publish(executor: Executor, id: string, at: Date): Promise<QuizRow | undefined> {
      const [row] = await executor
        .update(quizzes)
        .set({ status: 'published', publishedAt: at, updatedAt: at })
        .where(and(eq(quizzes.id, id), eq(quizzes.status, 'draft'), isNull(quizzes.deletedAt)))
        .returning();
      return row;
    },

    async softDelete(id: string, at: Date): Promise<void> {
      await db.update(quizzes).set({ deletedAt: at }).where(eq(quizzes.id, id));
    },
  };
}

export type QuizzesRepository = ReturnType<typeof createQuizzesRepository>;
