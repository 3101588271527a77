import {
  and,
  arrayContains,
  asc,
  desc,
  eq,
  inArray,
  isNull,
  lt,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { Database } from '../../platform/db/database.ts';
import type { Difficulty } from './challenges.models.ts';
import {
  type ChallengeRow,
  type ChallengeTestRow,
  challenges,
  challengeTests,
} from './challenges.tables.ts';

export type ChallengeInsert = typeof challenges.$inferInsert;
export type ChallengeContent = Omit<
  ChallengeInsert,
  'id' | 'createdBy' | 'createdAt' | 'updatedAt' | 'deletedAt'
>;
export type ChallengeFilter = { difficulty?: Difficulty; language?: string };
/** A test's row before it has a place in the challenge's order. */
export type TestInsert = Omit<typeof challengeTests.$inferInsert, 'position' | 'challengeId'>;

// Qualified by hand: Drizzle writes columns unqualified inside \`sql\`, and an unqualified "id"
// in the subquery is the test's own id (every list showed 0 tests).
const testCount = sql<number>`(select count(*)::int from ${challengeTests} t where t.challenge_id = ${challenges}.id)`;

export function createChallengesRepository(db: Database) {
  return {
    async insert(row: ChallengeInsert): Promise<ChallengeRow> {
      const [inserted] = await db.insert(challenges).values(row).returning();
      return inserted!;
    },

    /** Which of these ids are live challenges. */
    async liveIds(ids: readonly string[]): Promise<string[]> {
      if (ids.length === 0) return [];
      const rows = await db
        .select({ id: challenges.id })
        .from(challenges)
        .where(and(inArray(challenges.id, [...ids]), isNull(challenges.deletedAt)));
      return rows.map((row) => row.id);
    },

    async findLive(id: string): Promise<ChallengeRow | undefined> {
      const [row] = await db
        .select()
        .from(challenges)
        .where(and(eq(challenges.id, id), isNull(challenges.deletedAt)));
      return row;
    },

    /** Deleted or not: submissions are judged against the challenge they were made for. */
    async find(id: string): Promise<ChallengeRow | undefined> {
      const [row] = await db.select().from(challenges).where(eq(challenges.id, id));
      return row;
    },

    async list(
      filter: ChallengeFilter,
      page: { limit: number; after?: { createdAt: Date; id: string } },
    ): Promise<Array<{ challenge: ChallengeRow; testCount: number }>> {
      const conditions: SQL[] = [isNull(challenges.deletedAt)];
      if (filter.difficulty) conditions.push(eq(challenges.difficulty, filter.difficulty));
      if (filter.language) conditions.push(arrayContains(challenges.languages, [filter.language]));
      if (page.after) {
        const { createdAt, id } = page.after;
        conditions.push(
          or(
            lt(challenges.createdAt, createdAt),
            and(eq(challenges.createdAt, createdAt), lt(challenges.id, id)),
          )!,
        );
      }
      return db
        .select({ challenge: challenges, testCount })
        .from(challenges)
        .where(and(...conditions))
        .orderBy(desc(challenges.createdAt), desc(challenges.id))
        .limit(page.limit);
    },

    async replace(
      id: string,
      content: ChallengeContent & { updatedAt: Date },
    ): Promise<ChallengeRow | undefined> {
      const [row] = await db
        .update(challenges)
        .set(content)
        .where(and(eq(challenges.id, id), isNull(challenges.deletedAt)))
        .returning();
      return row;
    },

    /** Keeps the tests and their data: submissions judged against them still refer to them. */
    async softDelete(id: string, at: Date): Promise<boolean> {
      const rows = await db
        .update(challenges)
        .set({ deletedAt: at })
        .where(and(eq(challenges.id, id), isNull(challenges.deletedAt)))
        .returning({ id: challenges.id });
      return rows.length === 1;
    },

    /** Ids of every challenge this user wrote, deleted ones too (their submissions stay). */
    async idsCreatedBy(userId: string): Promise<string[]> {
      const rows = await db
        .select({ id: challenges.id })
        .from(challenges)
        .where(eq(challenges.createdBy, userId));
      return rows.map((row) => row.id);
    },

    async countTests(challengeId: string): Promise<number> {
      const [row] = await db
        .select({ count: sql<number>`count(*)::int` })
        .from(challengeTests)
        .where(eq(challengeTests.challengeId, challengeId));
      return row?.count ?? 0;
    },

    /** The challenge's tests in judging order. */
    async tests(challengeId: string): Promise<ChallengeTestRow[]> {
      return db
        .select()
        .from(challengeTests)
        .where(eq(challengeTests.challengeId, challengeId))
        .orderBy(asc(challengeTests.position));
    },

    /**
     * Appends tests after the existing ones, in one transaction. The challenge's row is locked
     * first, so concurrent uploads queue instead of colliding on positions, and an upload
     * racing a delete loses cleanly. Undefined when the challenge is not live.
     */
    async appendTests(
      challengeId: string,
      rows: TestInsert[],
      at: Date,
    ): Promise<ChallengeTestRow[] | undefined> {
      return db.transaction(async (tx) => {
        const [live] = await tx
          .select({ id: challenges.id })
          .from(challenges)
          .where(and(eq(challenges.id, challengeId), isNull(challenges.deletedAt)))
          .for('update');
        if (!live) return undefined;
        const [last] = await tx
          .select({ position: sql<number>`coalesce(max(${challengeTests.position}), 0)::int` })
          .from(challengeTests)
          .where(eq(challengeTests.challengeId, challengeId));
        const start = last?.position ?? 0;
        const inserted = await tx
          .insert(challengeTests)
          .values(rows.map((row, index) => ({ ...row, challengeId, position: start + index + 1 })))
          .returning();
        await tx.update(challenges).set({ updatedAt: at }).where(eq(challenges.id, challengeId));
        return inserted.sort((a, b) => a.position - b.position);
      });
    },
  };
}

export type ChallengesRepository = ReturnType<typeof createChallengesRepository>;
