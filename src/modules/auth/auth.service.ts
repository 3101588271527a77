import { randomUUID } from 'node:crypto';
import type { Clock } from '../../platform/clock/clock.ts';
import { hashPassword, verifyPassword } from '../../platform/crypto/password.ts';
import type { Database } from '../../platform/db/database.ts';
import type { Logger } from '../../platform/logger/logger.ts';
import type { Mailer } from '../../platform/mail/mailer.ts';
import { renderMail } from '../../platform/mail/render.ts';
import type { RateLimiter } from '../../platform/ratelimit/limiter.ts';
import type { AuditService, RequestContext } from '../audit/audit.service.ts';
import type { CreditsService } from '../credits/credits.service.ts';
import { normalizeEmail } from '../users/users.models.ts';
import type { AuthState, PublicUser, UsersService } from '../users/users.service.ts';
import {
  accountDeleted,
  accountDisabled,
  accountNotVerified,
  invalidCredentials,
  invalidRefreshToken,
  otpExpired,
  otpInvalid,
  otpLocked,
  passwordIncorrect,
  rateLimited,
  refreshTokenReused,
  weakPassword,
} from './auth.errors.ts';
import type { AuthRepository, OtpPurpose } from './auth.repository.ts';
import {
  type AccessTokens,
  hashOpaqueToken,
  newOpaqueToken,
  REFRESH_TOKEN_TTL_MS,
} from './auth.tokens.ts';
import {
  generateOtp,
  normalizeOtp,
  OTP_MAX_FAILED_ATTEMPTS,
  OTP_SEND_WINDOW_MS,
  OTP_TTL_MS,
  otpUnusableReason,
  sendAllowance,
} from './otp.models.ts';
import type { OtpHistory } from './otp-history.ts';
import { passwordProblem } from './password-policy.ts';

const SSE_TICKET_TTL_MS = 60_000;
const OTP_DRAWS = 20;
const CODE_SENT = 'Check your email for a verification code.';
const RESEND_SENT = 'If this address is waiting for verification, a new code is on its way.';
const RESET_SENT = 'If an account uses this address, a reset code is on its way.';
const WRONG_CODE = 'The code is wrong or no longer valid.';

export type Session = {
  user: PublicUser;
  accessToken: string;
  refreshToken: string;
  tokenType: 'bearer';
  expiresIn: number;
};

/** Verified for unknown accounts, so "no such account" costs as long as "wrong password". */
let dummyHash: Promise<string> | undefined;
const timingDummy = () => {
  dummyHash ??= hashPassword('not-a-real-password-just-for-timing');
  return dummyHash;
};

export function createAuthService(deps: {
  db: Database;
  repository: AuthRepository;
  users: UsersService;
  audit: AuditService;
  credits: CreditsService;
  mailer: Mailer;
  limiter: RateLimiter;
  otpHistory: OtpHistory;
  accessTokens: AccessTokens;
  clock: Clock;
  logger: Logger;
  /** Sign-in attempts per minute, per client IP and per email (also current-password checks per user). */
  loginPerMinute: number;
}) {
  const now = () => deps.clock.now();
  const loginLimit = { limit: deps.loginPerMinute, windowMs: 60_000 };
  const audit = deps.audit.record;
  const background = new Set<Promise<void>>();
  const queued = new Map<string, Promise<void>>();

  const checkPassword = (
    password: string,
    path: string,
    context: { email?: string; name?: string } = {},
  ) => {
    const problem = passwordProblem(password, context);
    if (problem) throw weakPassword(path, problem);
  };

  const limit = async (key: string, detail: string) => {
    const decision = await deps.limiter.hit(key, loginLimit);
    if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds, detail);
  };

  /**
   * At most 3 emails per address per rolling hour, whatever kind and whether or not an account
   * exists, reserved atomically before any other work.
   */
  const reserveEmailSend = async (email: string, kind: string) => {
    const at = now();
    const decision = await deps.repository.reserveEmailSend({
      email,
      kind,
      at,
      windowMs: OTP_SEND_WINDOW_MS,
      decide: (sentAt) => sendAllowance({ sentAt, now: at }),
    });
    if (!decision.allowed) {
      throw rateLimited(
        decision.retryAfterSeconds,
        'At most 3 codes are sent to one email address per hour.',
      );
    }
    return at;
  };

  /**
   * The requests that must not reveal whether an account exists answer as soon as the send is
   * reserved; the slow, branch-dependent part (hashing, mailing) runs after the response. A
   * mail failure is logged; the user asks again.
   */
  const afterResponse = (
    email: string,
    what: string,
    context: RequestContext,
    work: () => Promise<void>,
  ) => {
    // Work for one address runs in order: a resend right after a sign-up sees its account.
    const previous = queued.get(email) ?? Promise.resolve();
    const task: Promise<void> = previous
      .then(work)
      .catch((error: unknown) =>
        deps.logger.error(
          { err: error, requestId: context.requestId, what },
          'auth background task failed',
        ),
      )
      .finally(() => {
        background.delete(task);
        if (queued.get(email) === task) queued.delete(email);
      });
    background.add(task);
    queued.set(email, task);
  };

  /** Draws a code that repeats none of the recent ones, stores its hash and mails it. */
  const issueCode = async (
    email: string,
    purpose: OtpPurpose,
    at: Date,
    mail: { name: string; pendingPasswordHash?: string | null; pendingName?: string | null },
  ) => {
    let code: string | undefined;
    for (let draw = 0; draw < OTP_DRAWS && code === undefined; draw++) {
      const candidate = generateOtp();
      if (await deps.otpHistory.claim(candidate, at)) code = candidate;
    }
    if (code === undefined) throw new Error('could not draw a fresh one-time code');
    await deps.repository.insertCode({
      email,
      purpose,
      codeHash: await hashPassword(code),
      createdAt: at,
      expiresAt: new Date(at.getTime() + OTP_TTL_MS),
      pendingPasswordHash: mail.pendingPasswordHash ?? null,
      pendingName: mail.pendingName ?? null,
    });
    const body =
      purpose === 'verify'
        ? renderMail({
            title: 'Confirm your email',
            paragraphs: [
              `Hello ${mail.name}, enter this code in Assay to finish signing up:`,
              'It works for 5 minutes, and replaces any code sent before.',
              // Whoever signs up with an address sets the password its code activates, so say
              // whose request this is: the mailbox owner should only use a code they asked for.
              `Only use it if you just asked to join Assay as "${mail.name}". If you did not, ignore this email: nothing happens without the code.`,
            ],
            code,
          })
        : renderMail({
            title: 'Reset your password',
            paragraphs: [
              'Enter this code in Assay to choose a new password:',
              'It works for 5 minutes. If you did not ask for it, ignore this email.',
            ],
            code,
          });
    await deps.mailer.send({
      to: email,
      subject: purpose === 'verify' ? 'Your Assay sign-up code' : 'Your Assay password reset code',
      ...body,
    });
  };

  /**
   * Checks a code for email + purpose; wrong tries count toward the lock. "No such account", "no
   * code" and "wrong code" look the same, and cost the same.
   */
  const checkCode = async (
    email: string,
    purpose: OtpPurpose,
    input: string,
    accountOk: boolean,
  ) => {
    const code = accountOk ? await deps.repository.latestCode(email, purpose) : undefined;
    if (!code) {
      await verifyPassword(await timingDummy(), input);
      throw otpInvalid(WRONG_CODE);
    }
    const reason = otpUnusableReason(code, now());
    if (reason === 'locked') throw otpLocked('Too many wrong codes. Ask for a new one.');
    if (reason === 'expired') throw otpExpired('Ask for a new code.');
    if (reason === 'consumed') throw otpInvalid(WRONG_CODE);
    const normalized = normalizeOtp(input);
    // argon2's verify compares in constant time; a malformed code still costs a try.
    const matches = normalized !== undefined && (await verifyPassword(code.codeHash, normalized));
    if (!matches) {
      const failed = await deps.repository.recordFailedAttempt(code.id);
      if (failed === undefined || failed >= OTP_MAX_FAILED_ATTEMPTS)
        throw otpLocked('Too many wrong codes. Ask for a new one.');
      throw otpInvalid(WRONG_CODE);
    }
    return code;
  };

  const startSession = async (state: AuthState, existingFamilyId?: string): Promise<Session> => {
    const at = now();
    const familyId = existingFamilyId ?? randomUUID();
    const refreshToken = newOpaqueToken();
    const tokenRow = {
      userId: state.userId,
      familyId,
      tokenHash: hashOpaqueToken(refreshToken),
      createdAt: at,
      expiresAt: new Date(at.getTime() + REFRESH_TOKEN_TTL_MS),
    };
    if (!existingFamilyId) {
      await deps.db.transaction(async (tx) => {
        await deps.repository.insertFamily(tx, {
          id: familyId,
          userId: state.userId,
          createdAt: at,
        });
        await deps.repository.insertRefreshToken(tx, tokenRow);
      });
    } else {
      await deps.repository.insertRefreshToken(deps.db, tokenRow);
    }
    return sessionFor(state, familyId, refreshToken);
  };

  const sessionFor = async (
    state: AuthState,
    familyId: string,
    refreshToken: string,
  ): Promise<Session> => {
    const access = await deps.accessTokens.sign({
      userId: state.userId,
      role: state.role,
      tokenVersion: state.tokenVersion,
      sessionId: familyId,
    });
    return {
      user: await deps.users.get(state.userId),
      accessToken: access.token,
      refreshToken,
      tokenType: 'bearer',
      expiresIn: access.expiresIn,
    };
  };

  /** The caller's password, checked with the sign-in limit per user so a stolen token cannot guess it. */
  const confirmPassword = async (userId: string, password: string) => {
    await limit(`password-check:${userId}`, 'Too many password attempts; wait a minute.');
    const state = await deps.users.credentialsById(userId);
    if (!state || !(await verifyPassword(state.passwordHash, password))) throw passwordIncorrect();
    return state;
  };

  return {
    async register(
      input: { name: string; email: string; password: string },
      context: RequestContext,
    ) {
      const email = normalizeEmail(input.email);
      checkPassword(input.password, 'body.password', { email, name: input.name });
      const at = await reserveEmailSend(email, 'register');
      afterResponse(email, 'register', context, async () => {
        const existing = await deps.users.credentialsByEmail(email);
        if (existing && existing.status !== 'pending') {
          // The owner learns of the attempt; the caller cannot tell this from a new sign-up.
          await deps.mailer.send({
            to: email,
            subject: 'Someone tried to sign up with your email',
            ...renderMail({
              title: 'Someone tried to sign up with your email',
              paragraphs: [
                'Someone tried to create an Assay account with this email address, which already has one.',
                'If it was you, sign in or reset your password. Otherwise you can ignore this email.',
              ],
            }),
          });
          await audit({
            action: 'auth.register',
            target: { type: 'user', id: existing.userId },
            context,
            details: { existing: true },
          });
          return;
        }
        const passwordHash = await hashPassword(input.password);
        // A waiting account keeps its password: the new one only applies if this code is used.
        const user =
          existing ?? (await deps.users.createPending({ email, name: input.name, passwordHash }));
        await issueCode(email, 'verify', at, {
          name: input.name,
          pendingPasswordHash: passwordHash,
          pendingName: input.name.trim(),
        });
        await audit({
          action: 'auth.register',
          actor: { id: user.userId, email },
          target: { type: 'user', id: user.userId },
          context,
        });
      });
      return { message: CODE_SENT, expiresAt: new Date(at.getTime() + OTP_TTL_MS) };
    },

    async resendOtp(input: { email: string }, context: RequestContext) {
      const email = normalizeEmail(input.email);
      const at = await reserveEmailSend(email, 'resend');
      afterResponse(email, 'resend-otp', context, async () => {
        const existing = await deps.users.credentialsByEmail(email);
        if (existing?.status !== 'pending') return;
        // Carry forward the password and name of the last sign-up request.
        const last = await deps.repository.latestCode(email, 'verify');
        await issueCode(email, 'verify', at, {
          name: last?.pendingName ?? existing.name,
          pendingPasswordHash: last?.pendingPasswordHash ?? null,
          pendingName: last?.pendingName ?? null,
        });
      });
      return { message: RESEND_SENT, expiresAt: new Date(at.getTime() + OTP_TTL_MS) };
    },

    async verifyOtp(
      input: { email: string; otp: string },
      context: RequestContext,
    ): Promise<Session> {
      const email = normalizeEmail(input.email);
      const pending = await deps.users.credentialsByEmail(email);
      const code = await checkCode(email, 'verify', input.otp, pending?.status === 'pending');
      if (!pending || !(await deps.repository.consumeCode(deps.db, code.id, now())))
        throw otpInvalid(WRONG_CODE);
      const activated = await deps.users.activatePending(pending.userId, {
        ...(code.pendingPasswordHash ? { passwordHash: code.pendingPasswordHash } : {}),
        ...(code.pendingName ? { name: code.pendingName } : {}),
      });
      if (!activated) throw otpInvalid(WRONG_CODE);
      await deps.credits.grantSignup(pending.userId);
      await audit({
        action: 'auth.verify',
        actor: { id: pending.userId, email },
        target: { type: 'user', id: pending.userId },
        context,
      });
      const state = await deps.users.authState(pending.userId);
      if (!state) throw otpInvalid(WRONG_CODE);
      return startSession(state);
    },

    async login(
      input: { email: string; password: string },
      context: RequestContext,
    ): Promise<Session> {
      const email = normalizeEmail(input.email);
      await limit(
        `login:ip:${context.ip ?? 'unknown'}`,
        'Too many sign-in attempts; wait a minute.',
      );
      await limit(`login:email:${email}`, 'Too many sign-in attempts; wait a minute.');
      const state =
        (await deps.users.credentialsByEmail(email)) ??
        (await deps.users.deletedCredentialsByEmail(email));
      const matches = await verifyPassword(
        state?.passwordHash ?? (await timingDummy()),
        input.password,
      );
      if (!state || !matches) {
        await audit({
          action: 'auth.login_failed',
          ...(state ? { target: { type: 'user', id: state.userId } } : {}),
          context,
          details: { email },
        });
        throw invalidCredentials();
      }
      if (!state.active) {
        await audit({
          action: 'auth.login_failed',
          target: { type: 'user', id: state.userId },
          context,
          details: { email, status: state.deleted ? 'deleted' : state.status },
        });
        if (state.deleted) throw accountDeleted();
        if (state.status === 'pending')
          throw accountNotVerified('Enter the code we emailed you, or ask for a new one.');
        throw accountDisabled();
      }
      await audit({
        action: 'auth.login',
        actor: { id: state.userId, email },
        target: { type: 'user', id: state.userId },
        context,
      });
      return startSession(state);
    },

    /**
     * One refresh token, once. A second use revokes the whole family: owner and thief both sign
     * in again. The token and its family are locked while the next token is minted, so a
     * concurrent logout or revocation either comes first (and this fails) or ends the new token too.
     */
    async refresh(refreshToken: string, context: RequestContext): Promise<Session> {
      const at = now();
      const tokenHash = hashOpaqueToken(refreshToken);
      // Read the owner before the transaction: inside it only the transaction's own connection
      // may be used (PGlite has exactly one).
      const owner = await deps.repository.findRefreshTokenOwner(tokenHash);
      const ownerState = owner ? await deps.users.authState(owner) : undefined;
      const outcome = await deps.db.transaction(async (tx) => {
        const locked = await deps.repository.lockForRotation(tx, tokenHash);
        if (!locked) return { kind: 'unknown' as const };
        const { token, familyRevoked } = locked;
        if (familyRevoked)
          return { kind: token.usedAt ? ('reused' as const) : ('revoked' as const), token };
        if (token.usedAt) {
          await deps.repository.revokeFamily(tx, token.familyId, at);
          return { kind: 'theft' as const, token };
        }
        if (token.revokedAt || token.expiresAt.getTime() <= at.getTime())
          return { kind: 'revoked' as const, token };
        const state = token.userId === owner ? ownerState : undefined;
        if (!state?.active) {
          await deps.repository.revokeFamily(tx, token.familyId, at);
          return { kind: 'inactive' as const, token };
        }
        await deps.repository.markUsed(tx, token.id, at);
        const next = newOpaqueToken();
        await deps.repository.insertRefreshToken(tx, {
          userId: token.userId,
          familyId: token.familyId,
          tokenHash: hashOpaqueToken(next),
          createdAt: at,
          expiresAt: new Date(at.getTime() + REFRESH_TOKEN_TTL_MS),
        });
        return { kind: 'ok' as const, token, state, next };
      });
      switch (outcome.kind) {
        case 'ok':
          return sessionFor(outcome.state, outcome.token.familyId, outcome.next);
        case 'theft':
          await audit({
            action: 'auth.refresh_reuse_detected',
            target: { type: 'user', id: outcome.token.userId },
            context,
            details: { familyId: outcome.token.familyId },
          });
          throw refreshTokenReused();
        case 'reused':
          throw refreshTokenReused();
        case 'inactive':
          throw invalidRefreshToken('The account can no longer sign in.');
        default:
          throw invalidRefreshToken();
      }
    },

    async logout(userId: string, context: RequestContext) {
      await deps.repository.revokeAllForUser(userId, now());
      await deps.users.revokeAccessTokens(userId);
      await audit({
        action: 'auth.logout',
        actor: { id: userId },
        target: { type: 'user', id: userId },
        context,
      });
    },

    /** Logout by refresh token alone (a web client whose access token expired); only a live token counts. */
    async logoutByRefreshToken(refreshToken: string, context: RequestContext) {
      const live = await deps.repository.findLiveRefreshToken(hashOpaqueToken(refreshToken), now());
      if (!live) throw invalidRefreshToken();
      await this.logout(live.userId, context);
    },

    async me(userId: string) {
      const user = await deps.users.get(userId);
      return { ...user, credits: await deps.credits.balance(userId) };
    },

    /**
     * Every other sign-in ends (its refresh tokens are revoked). All access tokens stop working,
     * this one included; the caller's own refresh token stays valid, so its client refreshes once.
     */
    async changePassword(
      caller: { userId: string; sessionId?: string },
      input: { currentPassword: string; newPassword: string },
      context: RequestContext,
    ): Promise<void> {
      const state = await confirmPassword(caller.userId, input.currentPassword);
      checkPassword(input.newPassword, 'body.newPassword', {
        email: state.email,
        name: state.name,
      });
      await deps.users.setPassword(caller.userId, await hashPassword(input.newPassword));
      await deps.repository.revokeAllForUser(
        caller.userId,
        now(),
        caller.sessionId ? { exceptFamilyId: caller.sessionId } : {},
      );
      await audit({
        action: 'auth.password_changed',
        actor: { id: caller.userId, email: state.email },
        target: { type: 'user', id: caller.userId },
        context,
      });
    },

    async forgotPassword(input: { email: string }, context: RequestContext) {
      const email = normalizeEmail(input.email);
      const at = await reserveEmailSend(email, 'reset');
      afterResponse(email, 'forgot-password', context, async () => {
        const state = await deps.users.credentialsByEmail(email);
        if (state?.active) await issueCode(email, 'reset', at, { name: state.name });
      });
      return { message: RESET_SENT };
    },

    async resetPassword(
      input: { email: string; otp: string; newPassword: string },
      context: RequestContext,
    ) {
      const email = normalizeEmail(input.email);
      const state = await deps.users.credentialsByEmail(email);
      const code = await checkCode(email, 'reset', input.otp, state?.active === true);
      if (!state) throw otpInvalid(WRONG_CODE);
      checkPassword(input.newPassword, 'body.newPassword', { email, name: state.name });
      if (!(await deps.repository.consumeCode(deps.db, code.id, now())))
        throw otpInvalid(WRONG_CODE);
      await deps.users.setPassword(state.userId, await hashPassword(input.newPassword));
      await deps.repository.revokeAllForUser(state.userId, now());
      await audit({
        action: 'auth.password_reset',
        actor: { id: state.userId, email },
        target: { type: 'user', id: state.userId },
        context,
      });
    },

    async deleteMe(userId: string, input: { password: string }, context: RequestContext) {
      const state = await confirmPassword(userId, input.password);
      await deps.users.softDelete({ userId });
      await deps.repository.revokeAllForUser(userId, now());
      await audit({
        action: 'users.deleted',
        actor: { id: userId, email: state.email },
        target: { type: 'user', id: userId },
        context,
        details: { self: true },
      });
    },

    /** How many users signed in or refreshed a session since each instant (analytics). */
    activeUsersSince: (since: readonly Date[]) => deps.repository.activeUsersSince(since),

    /** Ends every sign-in of a user (their account was disabled or deleted by an admin). */
    async revokeAllSessions(userId: string): Promise<void> {
      await deps.repository.revokeAllForUser(userId, now());
    },

    async createSseTicket(userId: string): Promise<{ ticket: string; expiresAt: Date }> {
      const ticket = newOpaqueToken();
      const expiresAt = new Date(now().getTime() + SSE_TICKET_TTL_MS);
      await deps.repository.insertSseTicket({
        ticketHash: hashOpaqueToken(ticket),
        userId,
        expiresAt,
      });
      return { ticket, expiresAt };
    },

    /** The user a ticket was issued to, once; nothing for a used, expired or unknown ticket. */
    async redeemSseTicket(ticket: string): Promise<string | undefined> {
      return deps.repository.consumeSseTicket(hashOpaqueToken(ticket), now());
    },

    /** Resolves once the work started after earlier responses (mail) has finished. */
    async idle(): Promise<void> {
      while (background.size > 0) await Promise.allSettled([...background]);
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
