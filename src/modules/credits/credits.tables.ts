import { index, numeric, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/** The credit ledger: a balance is the sum of a user's rows. Never updated, only appended. */
export const creditTransactions = pgTable(
  'credit_transactions',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    amount: numeric('amount', { precision: 12, scale: 2 }).notNull(),
    reason: text('reason').notNull(),
    /** Makes a grant or charge idempotent: the same reference is applied once per user. */
    reference: text('reference').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (table) => [
    uniqueIndex('credit_transactions_reference_idx').on(table.userId, table.reference),
    index('credit_transactions_user_idx').on(table.userId, table.createdAt),
  ],
);
