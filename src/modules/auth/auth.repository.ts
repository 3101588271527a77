import { randomUUID } from 'node:crypto';
import { and, desc, eq, gt, isNull, lt, sql } from 'drizzle-orm';
import type { Database, Executor, Transaction } from '../../platform/db/database.ts';
import {
  authEmailEvents,
  otpCodes,
  refreshFamilies,
  refreshTokens,
  sseTickets,
} from './auth.tables.ts';
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
      pendingPasswordHash?: string | null;
      pendingName?: string | null;
    }) {
      await db.insert(otpCodes).values({ id: randomUUID(), ...code });
    },

    /**
     * Reserves one email send for this address if fewer than `limit` went out in the window.
     * An advisory lock per address makes count-then-insert atomic, so parallel requests cannot
     * all slip under the limit.
     */
    async reserveEmailSend(input: {
      email: string;
      kind: string;
      at: Date;
      windowMs: number;
      decide: (sentAt: Date[]) => { allowed: true } | { allowed: false; retryAfterSeconds: number };
    }) {
      return db.transaction(async (tx) => {
        await tx.execute(
          sql`select pg_advisory_xact_lock(hashtext(${`assay-mail:${input.email}`}))`,
        );
        const rows = await tx
          .select({ createdAt: authEmailEvents.createdAt })
          .from(authEmailEvents)
          .where(
            and(
              eq(authEmailEvents.email, input.email),
              gt(authEmailEvents.createdAt, new Date(input.at.getTime() - input.windowMs)),
            ),
          );
        const decision = input.decide(rows.map((row) => row.createdAt));
        if (decision.allowed) {
          await tx.insert(authEmailEvents).values({
            id: randomUUID(),
            email: input.email,
            kind: input.kind,
            createdAt: input.at,
          });
        }
        return decision;
      });
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

    async insertFamily(
      executor: Executor,
      family: { id: string; userId: string; createdAt: Date },
    ) {
      await executor.insert(refreshFamilies).values(family);
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

    /**
     * Locks a presented token and its family for the rest of the transaction and says what it is.
     * Everything that revokes takes the family lock too, so a revocation and a rotation cannot
     * interleave.
     */
    async lockForRotation(
      tx: Transaction,
      tokenHash: string,
    ): Promise<{ token: RefreshTokenRow; familyRevoked: boolean } | undefined> {
      const [token] = await tx
        .select()
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, tokenHash))
        .for('update');
      if (!token) return undefined;
      const [family] = await tx
        .select({ revokedAt: refreshFamilies.revokedAt })
        .from(refreshFamilies)
        .where(eq(refreshFamilies.id, token.familyId))
        .for('update');
      return { token, familyRevoked: !family || family.revokedAt !== null };
    },

    async markUsed(tx: Transaction, tokenId: string, at: Date) {
      await tx.update(refreshTokens).set({ usedAt: at }).where(eq(refreshTokens.id, tokenId));
    },

    /**
     * How many users obtained tokens (signed in, or refreshed a session) since each instant:
     * every request a user makes needs an access token younger than 15 minutes, and each one
     * comes with a refresh token row.
     */
    async activeUsersSince(since: readonly Date[]): Promise<number[]> {
      return Promise.all(
        since.map(async (at) => {
          const [row] = await db
            .select({ count: sql<number>`count(distinct ${refreshTokens.userId})::int` })
            .from(refreshTokens)
            .where(gt(refreshTokens.createdAt, at));
          return Number(row?.count ?? 0);
        }),
      );
    },

    async findRefreshTokenOwner(tokenHash: string): Promise<string | undefined> {
      const [row] = await db
        .select({ userId: refreshTokens.userId })
        .from(refreshTokens)
        .where(eq(refreshTokens.tokenHash, tokenHash));
      return row?.userId;
    },

    /** A token that could still be exchanged right now (unused, unexpired, family live). */
    async findLiveRefreshToken(tokenHash: string, at: Date): Promise<RefreshTokenRow | undefined> {
      const [row] = await db
        .select({ token: refreshTokens })
        .from(refreshTokens)
        .innerJoin(refreshFamilies, eq(refreshFamilies.id, refreshTokens.familyId))
        .where(
          and(
            eq(refreshTokens.tokenHash, tokenHash),
            isNull(refreshTokens.usedAt),
            isNull(refreshTokens.revokedAt),
            gt(refreshTokens.expiresAt, at),
            isNull(refreshFamilies.revokedAt),
          ),
        );
      return row?.token;
    },

    async revokeFamily(executor: Executor, familyId: string, at: Date): Promise<void> {
      await executor
        .update(refreshFamilies)
        .set({ revokedAt: at })
        .where(and(eq(refreshFamilies.id, familyId), isNull(refreshFamilies.revokedAt)));
    },

    /** Ends every sign-in of a user (but one, when given). */
    async revokeAllForUser(
      userId: string,
      at: Date,
      options: { exceptFamilyId?: string } = {},
    ): Promise<number> {
      const rows = await db
        .update(refreshFamilies)
        .set({ revokedAt: at })
        .where(
          and(
            eq(refreshFamilies.userId, userId),
            isNull(refreshFamilies.revokedAt),
            ...(options.exceptFamilyId
              ? [sql`${refreshFamilies.id} <> ${options.exceptFamilyId}`]
              : []),
          ),
        )
        .returning({ id: refreshFamilies.id });
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
