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
  mailUnavailable,
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

export type Session = {
  user: PublicUser;
  accessToken: string;
  refreshToken: string;
  tokenType: 'bearer';
  expiresIn: number;
};

/** Verified with every login of an unknown email, so "no such user" takes as long as "wrong password". */
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
  /** Sign-in attempts per minute, per client IP and per email. */
  loginPerMinute: number;
}) {
  const now = () => deps.clock.now();
  const loginLimit = { limit: deps.loginPerMinute, windowMs: 60_000 };

  const checkPassword = (
    password: string,
    path: string,
    context: { email?: string; name?: string } = {},
  ) => {
    const problem = passwordProblem(password, context);
    if (problem) throw weakPassword(path, problem);
  };

  /** At most 3 codes or notices per email per rolling hour, whatever kind they are. */
  const reserveEmailSend = async (email: string) => {
    const at = now();
    const sentAt = await deps.repository.emailsSentSince(
      email,
      new Date(at.getTime() - OTP_SEND_WINDOW_MS),
    );
    const allowance = sendAllowance({ sentAt, now: at });
    if (!allowance.allowed) {
      throw rateLimited(
        allowance.retryAfterSeconds,
        'At most 3 codes are sent to one email address per hour.',
      );
    }
    return at;
  };

  const sendMail = async (to: string, subject: string, body: ReturnType<typeof renderMail>) => {
    try {
      await deps.mailer.send({ to, subject, ...body });
    } catch (error) {
      deps.logger.error({ err: error }, 'auth email could not be sent');
      throw mailUnavailable();
    }
  };

  /** Draws a code that repeats none of the recent ones, stores its hash and mails it. */
  const issueCode = async (email: string, purpose: OtpPurpose, name: string) => {
    const at = await reserveEmailSend(email);
    let code: string | undefined;
    for (let draw = 0; draw < OTP_DRAWS && code === undefined; draw++) {
      const candidate = generateOtp();
      if (await deps.otpHistory.claim(candidate, at)) code = candidate;
    }
    if (code === undefined) throw new Error('could not draw a fresh one-time code');
    const expiresAt = new Date(at.getTime() + OTP_TTL_MS);
    await deps.repository.insertCode({
      email,
      purpose,
      codeHash: await hashPassword(code),
      createdAt: at,
      expiresAt,
    });
    await deps.repository.recordEmailSent(email, `otp.${purpose}`, at);
    const body =
      purpose === 'verify'
        ? renderMail({
            title: 'Confirm your email',
            paragraphs: [
              `Hello ${name}, enter this code in Assay to finish signing up:`,
              'It works for 5 minutes.',
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
    await sendMail(
      email,
      purpose === 'verify' ? 'Your Assay sign-up code' : 'Your Assay password reset code',
      body,
    );
    return { expiresAt };
  };

  /** A notice instead of a code, for requests that must look the same as the success path. */
  const sendNotice = async (email: string, subject: string, paragraphs: string[]) => {
    const at = await reserveEmailSend(email);
    await deps.repository.recordEmailSent(email, 'notice', at);
    await sendMail(email, subject, renderMail({ title: subject, paragraphs }));
    return { expiresAt: new Date(at.getTime() + OTP_TTL_MS) };
  };

  /** Checks a code for email + purpose; wrong tries count toward the lock. Returns the row id. */
  const checkCode = async (email: string, purpose: OtpPurpose, input: string): Promise<string> => {
    const code = await deps.repository.latestCode(email, purpose);
    if (!code) throw otpInvalid('No code was sent to this address, or it was already used.');
    const reason = otpUnusableReason(code, now());
    if (reason === 'locked') throw otpLocked('Ask for a new code.');
    if (reason === 'expired') throw otpExpired('Ask for a new code.');
    if (reason === 'consumed') throw otpInvalid('This code was already used.');
    const normalized = normalizeOtp(input);
    // argon2's verify compares in constant time; a malformed code still costs a try.
    const matches = normalized !== undefined && (await verifyPassword(code.codeHash, normalized));
    if (!matches) {
      const failed = await deps.repository.recordFailedAttempt(code.id);
      if (failed === undefined || failed >= OTP_MAX_FAILED_ATTEMPTS)
        throw otpLocked('Too many wrong codes. Ask for a new one.');
      throw otpInvalid(`The code is wrong. ${OTP_MAX_FAILED_ATTEMPTS - failed} tries left.`);
    }
    return code.id;
  };

  const startSession = async (
    state: AuthState,
    familyId: string = randomUUID(),
  ): Promise<Session> => {
    const at = now();
    const refreshToken = newOpaqueToken();
    await deps.repository.insertRefreshToken(deps.db, {
      userId: state.userId,
      familyId,
      tokenHash: hashOpaqueToken(refreshToken),
      createdAt: at,
      expiresAt: new Date(at.getTime() + REFRESH_TOKEN_TTL_MS),
    });
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

  const audit = deps.audit.record;

  return {
    async register(
      input: { name: string; email: string; password: string },
      context: RequestContext,
    ) {
      const email = normalizeEmail(input.email);
      checkPassword(input.password, 'body.password', { email, name: input.name });
      const existing = await deps.users.credentialsByEmail(email);
      if (existing && existing.status !== 'pending') {
        // Same answer as a new sign-up; the owner learns of the attempt by email.
        const { expiresAt } = await sendNotice(email, 'Someone tried to sign up with your email', [
          'Someone tried to create an Assay account with this email address, which already has one.',
          'If it was you, sign in or reset your password. Otherwise you can ignore this email.',
        ]);
        await audit({
          action: 'auth.register',
          target: { type: 'user', id: existing.userId },
          context,
          details: { existing: true },
        });
        return { message: 'Check your email for a verification code.', expiresAt };
      }
      const user = await deps.users.upsertPending({
        name: input.name,
        email,
        password: input.password,
      });
      const { expiresAt } = await issueCode(email, 'verify', user.name);
      await audit({
        action: 'auth.register',
        actor: { id: user.id, email },
        target: { type: 'user', id: user.id },
        context,
      });
      return { message: 'Check your email for a verification code.', expiresAt };
    },

    async resendOtp(input: { email: string }, context: RequestContext) {
      const email = normalizeEmail(input.email);
      const existing = await deps.users.credentialsByEmail(email);
      if (existing?.status === 'pending') {
        const { expiresAt } = await issueCode(email, 'verify', existing.name);
        deps.logger.debug(
          { userId: existing.userId, requestId: context.requestId },
          'verification code re-sent',
        );
        return {
          message: 'If this address is waiting for verification, a new code is on its way.',
          expiresAt,
        };
      }
      // Unknown or already verified: answer the same, send nothing, still count toward the limit.
      const at = await reserveEmailSend(email);
      await deps.repository.recordEmailSent(email, 'resend.noop', at);
      return {
        message: 'If this address is waiting for verification, a new code is on its way.',
        expiresAt: new Date(at.getTime() + OTP_TTL_MS),
      };
    },

    async verifyOtp(
      input: { email: string; otp: string },
      context: RequestContext,
    ): Promise<Session> {
      const email = normalizeEmail(input.email);
      const pending = await deps.users.credentialsByEmail(email);
      if (pending?.status !== 'pending') throw otpInvalid('No code is waiting for this address.');
      const codeId = await checkCode(email, 'verify', input.otp);
      const consumed = await deps.db.transaction(async (tx) => {
        if (!(await deps.repository.consumeCode(tx, codeId, now()))) return false;
        await deps.credits.grantSignup(pending.userId, tx);
        return true;
      });
      if (!consumed) throw otpInvalid('This code was already used.');
      await deps.users.activate(pending.userId);
      await audit({
        action: 'auth.verify',
        actor: { id: pending.userId, email },
        target: { type: 'user', id: pending.userId },
        context,
      });
      const state = await deps.users.authState(pending.userId);
      if (!state) throw otpInvalid();
      return startSession(state);
    },

    async login(
      input: { email: string; password: string },
      context: RequestContext,
    ): Promise<Session> {
      const email = normalizeEmail(input.email);
      for (const key of [`login:ip:${context.ip ?? 'unknown'}`, `login:email:${email}`]) {
        const decision = await deps.limiter.hit(key, loginLimit);
        if (!decision.allowed)
          throw rateLimited(
            decision.retryAfterSeconds,
            'Too many sign-in attempts; wait a minute.',
          );
      }
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

    /** One refresh token, once. A second use revokes the whole family: owner and thief both sign in again. */
    async refresh(refreshToken: string, context: RequestContext): Promise<Session> {
      const tokenHash = hashOpaqueToken(refreshToken);
      const at = now();
      const used = await deps.repository.useRefreshToken(deps.db, tokenHash, at);
      if (!used) {
        const known = await deps.repository.findRefreshToken(tokenHash);
        if (known?.usedAt && !known.revokedAt) {
          const revoked = await deps.repository.revokeFamily(known.familyId, at);
          await audit({
            action: 'auth.refresh_reuse_detected',
            target: { type: 'user', id: known.userId },
            context,
            details: { familyId: known.familyId, revoked },
          });
          throw refreshTokenReused();
        }
        if (known?.usedAt) throw refreshTokenReused();
        throw invalidRefreshToken();
      }
      const state = await deps.users.authState(used.userId);
      if (!state?.active) {
        await deps.repository.revokeFamily(used.familyId, at);
        throw invalidRefreshToken('The account can no longer sign in.');
      }
      return startSession(state, used.familyId);
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

    /** Logout by refresh token alone (a web client whose access token has expired). */
    async logoutByRefreshToken(refreshToken: string, context: RequestContext) {
      const known = await deps.repository.findRefreshToken(hashOpaqueToken(refreshToken));
      if (!known) throw invalidRefreshToken();
      await this.logout(known.userId, context);
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
      const { userId } = caller;
      const state = await deps.users.authState(userId);
      if (!state || !(await verifyPassword(state.passwordHash, input.currentPassword)))
        throw passwordIncorrect();
      checkPassword(input.newPassword, 'body.newPassword', {
        email: state.email,
        name: state.name,
      });
      await deps.users.setPassword(userId, input.newPassword);
      await deps.repository.revokeAllForUser(
        userId,
        now(),
        caller.sessionId ? { exceptFamilyId: caller.sessionId } : {},
      );
      await audit({
        action: 'auth.password_changed',
        actor: { id: userId, email: state.email },
        target: { type: 'user', id: userId },
        context,
      });
    },

    async forgotPassword(input: { email: string }, context: RequestContext) {
      const email = normalizeEmail(input.email);
      const state = await deps.users.credentialsByEmail(email);
      if (state?.active) {
        await issueCode(email, 'reset', state.name);
        deps.logger.debug(
          { userId: state.userId, requestId: context.requestId },
          'password reset code sent',
        );
      } else {
        const at = await reserveEmailSend(email);
        await deps.repository.recordEmailSent(email, 'reset.noop', at);
      }
      return { message: 'If an account uses this address, a reset code is on its way.' };
    },

    async resetPassword(
      input: { email: string; otp: string; newPassword: string },
      context: RequestContext,
    ) {
      const email = normalizeEmail(input.email);
      const state = await deps.users.credentialsByEmail(email);
      if (!state?.active) throw otpInvalid('No reset code is waiting for this address.');
      const codeId = await checkCode(email, 'reset', input.otp);
      checkPassword(input.newPassword, 'body.newPassword', { email, name: state.name });
      const consumed = await deps.db.transaction((tx) =>
        deps.repository.consumeCode(tx, codeId, now()),
      );
      if (!consumed) throw otpInvalid('This code was already used.');
      await deps.users.setPassword(state.userId, input.newPassword);
      await deps.repository.revokeAllForUser(state.userId, now());
      await audit({
        action: 'auth.password_reset',
        actor: { id: state.userId, email },
        target: { type: 'user', id: state.userId },
        context,
      });
    },

    async deleteMe(userId: string, input: { password: string }, context: RequestContext) {
      const state = await deps.users.authState(userId);
      if (!state || !(await verifyPassword(state.passwordHash, input.password)))
        throw passwordIncorrect();
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
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
