import { and, eq, isNull, sql } from 'drizzle-orm';
import { type Database, postgresErrorCode, UNIQUE_VIOLATION } from '../../platform/db/database.ts';
import { emailTaken } from './users.errors.ts';
import type { Role } from './users.models.ts';
import { type UserRow, users } from './users.tables.ts';

export function createUsersRepository(db: Database) {
  return {
    async insert(user: {
      id: string;
      email: string;
      name: string;
      role: Role;
      passwordHash: string;
      status: UserRow['status'];
    }): Promise<UserRow> {
      try {
        const [row] = await db.insert(users).values(user).returning();
        return row!;
      } catch (error) {
        if (postgresErrorCode(error) === UNIQUE_VIOLATION)
          throw emailTaken(`${user.email} is already registered.`);
        throw error;
      }
    },

    async findLiveByEmail(email: string): Promise<UserRow | undefined> {
      const [row] = await db
        .select()
        .from(users)
        .where(and(sql`lower(${users.email}) = ${email.toLowerCase()}`, isNull(users.deletedAt)));
      return row;
    },

    async update(
      id: string,
      changes: Partial<Pick<UserRow, 'name' | 'role' | 'passwordHash' | 'status'>>,
    ): Promise<UserRow | undefined> {
      const [row] = await db
        .update(users)
        .set({ ...changes, updatedAt: sql`now()`, tokenVersion: sql`${users.tokenVersion} + 1` })
        .where(and(eq(users.id, id), isNull(users.deletedAt)))
        .returning();
      return row;
    },

    async count(): Promise<number> {
      const [row] = await db
        .select({ count: sql<string>`count(*)` })
        .from(users)
        .where(isNull(users.deletedAt));
      return Number(row?.count ?? 0);
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
