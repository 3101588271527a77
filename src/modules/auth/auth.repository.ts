import { randomUUID } from 'node:crypto';
import { and, desc, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Database, Executor } from '../../platform/db/database.ts';
import { authEmailEvents, otpCodes, refreshTokens, sseTickets } from './auth.tables.ts';
import { OTP_MAX_FAILED_ATTEMPTS } from './otp.models.ts';

export type OtpPurpose = 'verify' | 'reset';
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;

export function createAuthRepository(db: Database) {
  return {
    async insertCode(code: {
      email: string;
      purpose: OtpPurpose;
      codeHash: string;
      createdAt: Date;
      expiresAt: Date;
    }) {
      await db.insert(otpCodes).values({ id: randomUUID(), ...code });
    },

    /** The newest code sent for this email and purpose: the only one that can be used. */
    async latestCode(email: string, purpose: OtpPurpose) {
      const [row] = await db
        .select()
        .from(otpCodes)
        .where(and(eq(otpCodes.email, email), eq(otpCodes.purpose, purpose)))
        .orderBy(desc(otpCodes.createdAt))
        .limit(1);
      return row;
    },

    /** Counts a wrong guess; conditional, so parallel guesses cannot exceed the limit. */
    async recordFailedAttempt(id: string): Promise<number | undefined> {
      const [row] = await db
        .update(otpCodes)
        .set({ failedAttempts: sql`${otpCodes.failedAttempts} + 1` })
        .where(
          and(
            eq(otpCodes.id, id),
            isNull(otpCodes.consumedAt),
            lt(otpCodes.failedAttempts, OTP_MAX_FAILED_ATTEMPTS),
          ),
        )
        .returning({ failedAttempts: otpCodes.failedAttempts });
      return row?.failedAttempts;
    },

    /** Uses a code up; only one of two parallel verifications can win. */
    async consumeCode(executor: Executor, id: string, at: Date): Promise<boolean> {
      const rows = await executor
        .update(otpCodes)
        .set({ consumedAt: at })
        .where(
          and(
            eq(otpCodes.id, id),
            isNull(otpCodes.consumedAt),
            lt(otpCodes.failedAttempts, OTP_MAX_FAILED_ATTEMPTS),
          ),
        )
        .returning({ id: otpCodes.id });
      return rows.length === 1;
    },

    async recordEmailSent(email: string, kind: string, at: Date) {
      await db.insert(authEmailEvents).values({ id: randomUUID(), email, kind, createdAt: at });
    },

    async emailsSentSince(email: string, since: Date): Promise<Date[]> {
      const rows = await db
        .select({ createdAt: authEmailEvents.createdAt })
        .from(authEmailEvents)
        .where(and(eq(authEmailEvents.email, email), gt(authEmailEvents.createdAt, since)));
      return rows.map((row) => row.createdAt);
    },

    async insertRefreshToken(
      executor: Executor,
      token: {
        userId: string;
        familyId: string;
        tokenHash: string;
        createdAt: Date;
        expiresAt: Date;
      },
    ) {
      await executor.insert(refreshTokens).values({ id: randomUUID(), ...token });
    },

    /** Marks a live token used and returns it; nothing when it was used, revoked or expired already. */
    async useRefreshToken(
      executor: Executor,
      tokenHash: string,
      at: Date,
    ): Promise<RefreshTokenRow | undefined> {
      const [row] = await executor
        .update(refreshTokens)
        .set({ usedAt: at })
        .where(
          and(
            eq(refreshTokens.tokenHash, tokenHash),
            isNull(refreshTokens.usedAt),
            isNull(refreshTokens.revokedAt),
            gt(refreshTokens.expiresAt, at),
          ),
        )
        .returning();
      return row;
    },

    async findRefreshToken(tokenHash: string): Promise<RefreshTokenRow | undefined> {
      const [row] = await db
        .select()
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, tokenHash));
      return row;
    },

    async revokeFamily(familyId: string, at: Date): Promise<number> {
      const rows = await db
        .update(refreshTokens)
        .set({ revokedAt: at })
        .where(and(eq(refreshTokens.familyId, familyId), isNull(refreshTokens.revokedAt)))
        .returning({ id: refreshTokens.id });
      return rows.length;
    },

    async revokeAllForUser(
      userId: string,
      at: Date,
      options: { exceptFamilyId?: string } = {},
    ): Promise<number> {
      const rows = await db
        .update(refreshTokens)
        .set({ revokedAt: at })
        .where(
          and(
            eq(refreshTokens.userId, userId),
            isNull(refreshTokens.revokedAt),
            ...(options.exceptFamilyId
              ? [sql`${refreshTokens.familyId} <> ${options.exceptFamilyId}`]
              : []),
          ),
        )
        .returning({ id: refreshTokens.id });
      return rows.length;
    },

    async insertSseTicket(ticket: { ticketHash: string; userId: string; expiresAt: Date }) {
      await db.insert(sseTickets).values(ticket);
    },

    async consumeSseTicket(ticketHash: string, at: Date): Promise<string | undefined> {
      const [row] = await db
        .update(sseTickets)
        .set({ usedAt: at })
        .where(
          and(
            eq(sseTickets.ticketHash, ticketHash),
            isNull(sseTickets.usedAt),
            gt(sseTickets.expiresAt, at),
          ),
        )
        .returning({ userId: sseTickets.userId });
      return row?.userId;
    },
  };
}

export type AuthRepository = ReturnType<typeof createAuthRepository>;
