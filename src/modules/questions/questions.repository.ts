import {
  and,
  arrayContains,
  desc,
  eq,
  ilike,
  inArray,
  isNull,
  lt,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { Database } from '../../platform/db/database.ts';
import type { Level, QuestionType } from './questions.models.ts';
import { type QuestionRow, questions } from './questions.tables.ts';

export type QuestionFilter = {
  type?: QuestionType;
  tags?: string[];
  language?: string;
  level?: Level;
  q?: string;
};

const filterConditions = (filter: QuestionFilter): SQL[] => {
  const conditions: SQL[] = [isNull(questions.deletedAt)];
  if (filter.type) conditions.push(eq(questions.type, filter.type));
  if (filter.tags && filter.tags.length > 0)
    conditions.push(arrayContains(questions.tags, filter.tags));
  if (filter.language) conditions.push(eq(questions.language, filter.language));
  if (filter.level) conditions.push(eq(questions.level, filter.level));
  if (filter.q) {
    const pattern = `%${filter.q.replace(/[\\%_]/g, (match) => `\\${match}`)}%`;
    conditions.push(or(ilike(questions.name, pattern), ilike(questions.prompt, pattern))!);
  }
  return conditions;
};

const INSERT_CHUNK = 1_000;

export function createQuestionsRepository(db: Database) {
  return {
    async insert(row: typeof questions.$inferInsert): Promise<QuestionRow> {
      const [inserted] = await db.insert(questions).values(row).returning();
      return inserted!;
    },

    /**
     * One transaction: an import stores all of its questions or none. Chunked, because one
     * statement may carry at most 65,535 parameters.
     */
    async insertMany(rows: Array<typeof questions.$inferInsert>): Promise<QuestionRow[]> {
      if (rows.length === 0) return [];
      return db.transaction(async (tx) => {
        const stored: QuestionRow[] = [];
        for (let start = 0; start < rows.length; start += INSERT_CHUNK) {
          stored.push(
            ...(await tx
              .insert(questions)
              .values(rows.slice(start, start + INSERT_CHUNK))
              .returning()),
          );
        }
        return stored;
      });
    },

    async findLive(id: string): Promise<QuestionRow | undefined> {
      const [row] = await db
        .select()
        .from(questions)
        .where(and(eq(questions.id, id), isNull(questions.deletedAt)));
      return row;
    },

    async replace(
      id: string,
      row: Omit<typeof questions.$inferInsert, 'id' | 'createdBy' | 'createdAt'>,
    ) {
      const [updated] = await db
        .update(questions)
        .set(row)
        .where(and(eq(questions.id, id), isNull(questions.deletedAt)))
        .returning();
      return updated;
    },

    async softDelete(id: string, at: Date): Promise<boolean> {
      const rows = await db
        .update(questions)
        .set({ deletedAt: at })
        .where(and(eq(questions.id, id), isNull(questions.deletedAt)))
        .returning({ id: questions.id });
      return rows.length === 1;
    },

    async list(
      filter: QuestionFilter,
      page: { limit: number; after?: { createdAt: Date; id: string } },
    ) {
      const conditions = filterConditions(filter);
      if (page.after) {
        conditions.push(
          or(
            lt(questions.createdAt, page.after.createdAt),
            and(eq(questions.createdAt, page.after.createdAt), lt(questions.id, page.after.id)),
          )!,
        );
      }
      return db
        .select()
        .from(questions)
        .where(and(...conditions))
        .orderBy(desc(questions.createdAt), desc(questions.id))
        .limit(page.limit);
    },

    /** These questions, soft-deleted ones included (an attempt keeps what it was given). */
    async byIds(ids: string[]): Promise<QuestionRow[]> {
      if (ids.length === 0) return [];
      return db.select().from(questions).where(inArray(questions.id, ids));
    },

    async matching(filter: QuestionFilter, limit: number): Promise<QuestionRow[]> {
      return db
        .select()
        .from(questions)
        .where(and(...filterConditions(filter)))
        .orderBy(questions.createdAt, questions.id)
        .limit(limit);
    },

    /** Which of these ids are live questions. */
    async liveIds(ids: string[]): Promise<Set<string>> {
      if (ids.length === 0) return new Set();
      const rows = await db
        .select({ id: questions.id })
        .from(questions)
        .where(and(inArray(questions.id, ids), isNull(questions.deletedAt)));
      return new Set(rows.map((row) => row.id));
    },

    async count(filter: QuestionFilter): Promise<number> {
      const [row] = await db
        .select({ count: sql<string>`count(*)` })
        .from(questions)
        .where(and(...filterConditions(filter)));
      return Number(row?.count ?? 0);
    },

    /** Distinct questions in random order: a set never repeats one. */
    async random(filter: QuestionFilter, count: number): Promise<QuestionRow[]> {
      return db
        .select()
        .from(questions)
        .where(and(...filterConditions(filter)))
        .orderBy(sql`random()`)
        .limit(count);
    },
  };
}

export type QuestionsRepository = ReturnType<typeof createQuestionsRepository>;
