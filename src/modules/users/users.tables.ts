import { sql } from 'drizzle-orm';
import { check, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

export const users = pgTable(
  'users',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    role: text('role', { enum: ['admin', 'instructor', 'student'] }).notNull(),
    passwordHash: text('password_hash').notNull(),
    status: text('status', { enum: ['pending', 'active', 'disabled'] })
      .notNull()
      .default('pending'),
    /** Bumped on logout, role change or disable: access tokens carry it and stop matching. */
    tokenVersion: integer('token_version').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
  },
  (table) => [
    check('users_role_check', sql`${table.role} in ('admin', 'instructor', 'student')`),
    check('users_status_check', sql`${table.status} in ('pending', 'active', 'disabled')`),
    // Emails are unique among live accounts only, so a deleted account's address can sign up again.
    uniqueIndex('users_email_live_idx')
      .on(sql`lower(${table.email})`)
      .where(sql`${table.deletedAt} is null`),
  ],
);

export type UserRow = typeof users.$inferSelect;
