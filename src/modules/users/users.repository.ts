import {
  and,
  desc,
  eq,
  ilike,
  inArray,
  isNotNull,
  isNull,
  lt,
  or,
  type SQL,
  sql,
} from 'drizzle-orm';
import { type Database, postgresErrorCode, UNIQUE_VIOLATION } from '../../platform/db/database.ts';
import { emailTaken } from './users.errors.ts';
import type { Role } from './users.models.ts';
import { type UserRow, users } from './users.tables.ts';

export type UserListFilter = { role?: Role; q?: string; includeDeleted?: boolean };
export type UserCursor = { createdAt: Date; id: string };

/** The columns a request's authentication needs (no password hash). */
export type UserStanding = Pick<
  UserRow,
  'id' | 'email' | 'name' | 'role' | 'status' | 'tokenVersion' | 'deletedAt'
>;

/** The columns of a user's standing (who they are, whether their tokens still count). */
const standingColumns = {
  id: users.id,
  email: users.email,
  name: users.name,
  role: users.role,
  status: users.status,
  tokenVersion: users.tokenVersion,
  deletedAt: users.deletedAt,
};

export function createUsersRepository(db: Database) {
  // Every request with a token whose standing is not cached reads this: built once.
  const standingById = db
    .select(standingColumns)
    .from(users)
    .where(eq(users.id, sql.placeholder('id')))
    .prepare('users_standing_by_id');
  return {
    async insert(user: {
      id: string;
      email: string;
      name: string;
      role: Role;
      passwordHash: string;
      status: UserRow['status'];
      createdAt?: Date;
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

    async findById(id: string): Promise<UserRow | undefined> {
      const [row] = await db.select().from(users).where(eq(users.id, id));
      return row;
    },

    /** Deleted or not. */
    async standingsByIds(ids: readonly string[]): Promise<UserStanding[]> {
      if (ids.length === 0) return [];
      return db
        .select(standingColumns)
        .from(users)
        .where(inArray(users.id, [...ids]));
    },

    async standingById(id: string): Promise<UserStanding | undefined> {
      const [row] = await standingById.execute({ id });
      return row;
    },

    async findLiveByEmail(email: string): Promise<UserRow | undefined> {
      const [row] = await db
        .select()
        .from(users)
        .where(and(sql`lower(${users.email}) = ${email.toLowerCase()}`, isNull(users.deletedAt)));
      return row;
    },

    async findLatestDeletedByEmail(email: string): Promise<UserRow | undefined> {
      const [row] = await db
        .select()
        .from(users)
        .where(and(sql`lower(${users.email}) = ${email.toLowerCase()}`, isNotNull(users.deletedAt)))
        .orderBy(desc(users.deletedAt))
        .limit(1);
      return row;
    },

    /**
     * Changes a live user. `revokeTokens` bumps the token version, so every access token issued
     * before stops working at once.
     */
    async update(
      id: string,
      changes: Partial<Pick<UserRow, 'name' | 'role' | 'passwordHash' | 'status'>>,
      options: { revokeTokens?: boolean; onlyIfStatus?: UserRow['status'] } = {
        revokeTokens: true,
      },
    ): Promise<UserRow | undefined> {
      const [row] = await db
        .update(users)
        .set({
          ...changes,
          updatedAt: sql`now()`,
          ...(options.revokeTokens === false
            ? {}
            : { tokenVersion: sql`${users.tokenVersion} + 1` }),
        })
        .where(
          and(
            eq(users.id, id),
            isNull(users.deletedAt),
            ...(options.onlyIfStatus ? [eq(users.status, options.onlyIfStatus)] : []),
          ),
        )
        .returning();
      return row;
    },

    async softDelete(id: string): Promise<UserRow | undefined> {
      const [row] = await db
        .update(users)
        .set({
          deletedAt: sql`now()`,
          updatedAt: sql`now()`,
          tokenVersion: sql`${users.tokenVersion} + 1`,
        })
        .where(and(eq(users.id, id), isNull(users.deletedAt)))
        .returning();
      return row;
    },

    async list(
      filter: UserListFilter,
      page: { limit: number; after?: UserCursor },
    ): Promise<UserRow[]> {
      const conditions: SQL[] = [];
      if (!filter.includeDeleted) conditions.push(isNull(users.deletedAt));
      if (filter.role) conditions.push(eq(users.role, filter.role));
      if (filter.q) {
        const pattern = `%${filter.q.replace(/[\\%_]/g, (match) => `\\${match}`)}%`;
        conditions.push(or(ilike(users.email, pattern), ilike(users.name, pattern))!);
      }
      if (page.after) {
        conditions.push(
          or(
            lt(users.createdAt, page.after.createdAt),
            and(eq(users.createdAt, page.after.createdAt), lt(users.id, page.after.id)),
          )!,
        );
      }
      return db
        .select()
        .from(users)
        .where(conditions.length > 0 ? and(...conditions) : undefined)
        .orderBy(desc(users.createdAt), desc(users.id))
        .limit(page.limit);
    },

    /** Live accounts (not deleted) by role. */
    async countByRole(): Promise<Array<{ role: Role; count: number }>> {
      const rows = await db
        .select({ role: users.role, count: sql<number>`count(*)::int` })
        .from(users)
        .where(isNull(users.deletedAt))
        .groupBy(users.role);
      return rows.map((row) => ({ role: row.role, count: Number(row.count) }));
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
