import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../platform/db/database.ts';
import { creditTransactions } from './credits.tables.ts';

export const SIGNUP_CREDITS = '10';

/** The credit ledger. This is the part accounts need; purchases and charges build on it. */
export function createCreditsService(deps: { db: Database }) {
  return {
    async balance(userId: string, executor: Executor = deps.db): Promise<number> {
      const [row] = await executor
        .select({ total: sql<string>`coalesce(sum(${creditTransactions.amount}), 0)` })
        .from(creditTransactions)
        .where(eq(creditTransactions.userId, userId));
      return Number(row?.total ?? 0);
    },

    /** The welcome grant; applied once per account however often it is called. */
    async grantSignup(userId: string, executor: Executor = deps.db): Promise<void> {
      await executor
        .insert(creditTransactions)
        .values({
          id: randomUUID(),
          userId,
          amount: SIGNUP_CREDITS,
          reason: 'signup_grant',
          reference: 'signup',
        })
        .onConflictDoNothing();
    },
  };
}

export type CreditsService = ReturnType<typeof createCreditsService>;
