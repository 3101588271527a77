import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core';

/**
 * One-time codes, stored only as argon2id hashes. One row per code sent; the newest unconsumed
 * row of an email and purpose is the one that counts.
 */
export const otpCodes = pgTable(
  'otp_codes',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    purpose: text('purpose', { enum: ['verify', 'reset'] }).notNull(),
    codeHash: text('code_hash').notNull(),
    failedAttempts: integer('failed_attempts').notNull().default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    consumedAt: timestamp('consumed_at', { withTimezone: true }),
    /**
     * Sign-up codes carry the password (hash) and name they were requested with; verifying the
     * code applies them. Registering again therefore never changes a waiting account.
     */
    pendingPasswordHash: text('pending_password_hash'),
    pendingName: text('pending_name'),
  },
  (table) => [index('otp_codes_email_idx').on(table.email, table.purpose, table.createdAt)],
);

/**
 * Keyed fingerprints (HMAC) of the most recent codes, so a new code never repeats one of the last
 * 20,000. Used when Redis is not configured; with Redis a sorted set holds them.
 */
export const otpRecentCodes = pgTable(
  'otp_recent_codes',
  {
    fingerprint: text('fingerprint').primaryKey(),
    issuedAt: timestamp('issued_at', { withTimezone: true }).notNull(),
    seq: integer('seq').generatedAlwaysAsIdentity(),
  },
  (table) => [uniqueIndex('otp_recent_codes_seq_idx').on(table.seq)],
);

/** Every email the auth flows send (codes and notices), for the per-email hourly limit. */
export const authEmailEvents = pgTable(
  'auth_email_events',
  {
    id: text('id').primaryKey(),
    email: text('email').notNull(),
    kind: text('kind').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
  },
  (table) => [index('auth_email_events_email_idx').on(table.email, table.createdAt)],
);

/**
 * One row per sign-in. Revoking a family ends every refresh token in it, including one being
 * minted at that moment: rotation locks the family row and checks it first.
 */
export const refreshFamilies = pgTable(
  'refresh_families',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [
    index('refresh_families_user_idx').on(table.userId).where(sql`${table.revokedAt} is null`),
  ],
);

/**
 * Refresh tokens: opaque random strings, stored as SHA-256 (they are high-entropy, so a fast hash
 * is enough). Each login starts a family; each refresh uses one token and adds the next.
 */
export const refreshTokens = pgTable(
  'refresh_tokens',
  {
    id: text('id').primaryKey(),
    userId: text('user_id').notNull(),
    familyId: text('family_id').notNull(),
    tokenHash: text('token_hash').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (table) => [
    uniqueIndex('refresh_tokens_hash_idx').on(table.tokenHash),
    index('refresh_tokens_family_idx').on(table.familyId),
    index('refresh_tokens_user_idx').on(table.userId).where(sql`${table.revokedAt} is null`),
  ],
);

/** Single-use tickets for EventSource clients, which cannot send an Authorization header. */
export const sseTickets = pgTable('sse_tickets', {
  ticketHash: text('ticket_hash').primaryKey(),
  userId: text('user_id').notNull(),
  expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
  usedAt: timestamp('used_at', { withTimezone: true }),
});
