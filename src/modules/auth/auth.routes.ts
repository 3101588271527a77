import type {} from '@fastify/cookie';
import type {} from '@fastify/csrf-protection';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/access.ts';
import { requestContext } from '../../platform/http/request-context.ts';
import { invalidRefreshToken } from './auth.errors.ts';
import {
  accepted,
  changePasswordBody,
  deleteMeBody,
  emailBody,
  loginBody,
  me,
  oauthToken,
  refreshBody,
  registerBody,
  resetPasswordBody,
  session,
  tokenForm,
  verifyOtpBody,
} from './auth.schemas.ts';
import type { AuthService, Session } from './auth.service.ts';
import { REFRESH_TOKEN_TTL_MS } from './auth.tokens.ts';

export const REFRESH_COOKIE = 'assay_refresh';
const COOKIE_PATH = '/api/v1/auth';

type CsrfCheck = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

export function authRoutes(deps: {
  auth: AuthService;
  secureCookies: boolean;
  checkCsrf: CsrfCheck;
}): FastifyPluginAsyncZod {
  const isWebClient = (request: FastifyRequest) => request.headers['x-assay-client'] === 'web';

  /** Web clients get the refresh token as an httpOnly cookie, never in the body. */
  const deliver = (request: FastifyRequest, reply: FastifyReply, value: Session) => {
    if (!isWebClient(request)) return value;
    reply.setCookie(REFRESH_COOKIE, value.refreshToken, {
      httpOnly: true,
      sameSite: 'strict',
      secure: deps.secureCookies,
      path: COOKIE_PATH,
      maxAge: Math.floor(REFRESH_TOKEN_TTL_MS / 1000),
    });
    const { refreshToken: _omitted, ...rest } = value;
    return rest;
  };

  /** The refresh token from the body, or from the cookie (which then needs X-CSRF-Token). */
  const refreshTokenOf = async (
    request: FastifyRequest,
    reply: FastifyReply,
    bodyToken: string | undefined,
  ) => {
    if (bodyToken) return bodyToken;
    const cookie = request.cookies[REFRESH_COOKIE];
    if (!cookie) return undefined;
    await deps.checkCsrf(request, reply);
    return cookie;
  };

  const tags = ['auth'];

  return async (app) => {
    app.get(
      '/auth/csrf',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'A CSRF token for X-CSRF-Token (also sets its secret cookie)',
          response: { 200: z.object({ csrfToken: z.string() }) },
        },
      },
      async (_request, reply) => ({ csrfToken: reply.generateCsrf() }),
    );

    app.post(
      '/auth/register',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'Start sign-up: emails a 6-character code',
          description:
            'Always 202 for a well-formed request, whether or not the email is registered (the owner of an existing account gets a notice instead). At most 3 emails per address per hour: then 429 with Retry-After.',
          body: registerBody,
          response: { 202: accepted },
        },
      },
      async (request, reply) => {
        const result = await deps.auth.register(request.body, requestContext(request));
        return reply
          .status(202)
          .send({ message: result.message, expiresAt: result.expiresAt.toISOString() });
      },
    );

    app.post(
      '/auth/verify-otp',
      {
        config: { access: 'public' },
        preHandler: async (request, reply) => deps.checkCsrf(request, reply),
        schema: {
          tags,
          summary: 'Finish sign-up with the emailed code; returns tokens',
          description:
            'Requires X-CSRF-Token from GET /auth/csrf (with its cookie). 5 wrong codes lock the code (423 OTP_LOCKED).',
          body: verifyOtpBody,
          response: { 201: session },
        },
      },
      async (request, reply) => {
        const result = await deps.auth.verifyOtp(request.body, requestContext(request));
        return reply.status(201).send(deliver(request, reply, result));
      },
    );

    app.post(
      '/auth/resend-otp',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'Send a new sign-up code',
          body: emailBody,
          response: { 202: accepted },
        },
      },
      async (request, reply) => {
        const result = await deps.auth.resendOtp(request.body, requestContext(request));
        return reply
          .status(202)
          .send({ message: result.message, expiresAt: result.expiresAt.toISOString() });
      },
    );

    app.post(
      '/auth/login',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'Sign in with email and password',
          description:
            '10 attempts per minute per IP and per email. Unverified: 403 ACCOUNT_NOT_VERIFIED; disabled: 403 ACCOUNT_DISABLED; deleted: 403 ACCOUNT_DELETED.',
          body: loginBody,
          response: { 200: session },
        },
      },
      async (request, reply) =>
        deliver(request, reply, await deps.auth.login(request.body, requestContext(request))),
    );

    app.post(
      '/auth/token',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'OAuth2 password flow (form: username = email, password)',
          consumes: ['application/x-www-form-urlencoded'],
          body: tokenForm,
          response: { 200: oauthToken },
        },
      },
      async (request) => {
        const result = await deps.auth.login(
          { email: request.body.username, password: request.body.password },
          requestContext(request),
        );
        return {
          access_token: result.accessToken,
          token_type: 'bearer' as const,
          expires_in: result.expiresIn,
          refresh_token: result.refreshToken,
          ...result,
        };
      },
    );

    app.post(
      '/auth/refresh',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'Trade a refresh token for a new pair (each works once)',
          description:
            'Body `{ refreshToken }`, or the assay_refresh cookie with X-CSRF-Token. Presenting a used token ends every session of its family (401 REFRESH_TOKEN_REUSED).',
          body: refreshBody.nullish(),
          response: { 200: session },
        },
      },
      async (request, reply) => {
        const token = await refreshTokenOf(request, reply, request.body?.refreshToken);
        if (!token)
          throw invalidRefreshToken(
            'Send the refresh token in the body or the assay_refresh cookie.',
          );
        return deliver(request, reply, await deps.auth.refresh(token, requestContext(request)));
      },
    );

    app.post(
      '/auth/logout',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'End every session of the signed-in user',
          description:
            'With a bearer token; or, for web clients, the assay_refresh cookie plus X-CSRF-Token.',
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        if (request.principal) {
          await deps.auth.logout(request.principal.userId, requestContext(request));
        } else {
          const token = await refreshTokenOf(request, reply, undefined);
          if (!token) throw invalidRefreshToken('Sign in to sign out.');
          await deps.auth.logoutByRefreshToken(token, requestContext(request));
        }
        reply.clearCookie(REFRESH_COOKIE, { path: COOKIE_PATH });
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/auth/me',
      {
        config: { access: 'authenticated' },
        schema: { tags, summary: 'The signed-in user', response: { 200: me } },
      },
      async (request) => deps.auth.me(principalOf(request).userId),
    );

    app.delete(
      '/auth/me',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Delete your account (soft delete)',
          body: deleteMeBody,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await deps.auth.deleteMe(
          principalOf(request).userId,
          request.body,
          requestContext(request),
        );
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/auth/change-password',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Change password; other sessions end',
          body: changePasswordBody,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await deps.auth.changePassword(principalOf(request), request.body, requestContext(request));
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/auth/forgot-password',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'Email a reset code (always 202)',
          body: emailBody,
          response: { 202: accepted },
        },
      },
      async (request, reply) =>
        reply
          .status(202)
          .send(await deps.auth.forgotPassword(request.body, requestContext(request))),
    );

    app.post(
      '/auth/reset-password',
      {
        config: { access: 'public' },
        schema: {
          tags,
          summary: 'Set a new password with the emailed code',
          body: resetPasswordBody,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await deps.auth.resetPassword(request.body, requestContext(request));
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/auth/sse-ticket',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'A single-use, 60-second ticket for EventSource (?ticket=)',
          response: { 200: z.object({ ticket: z.string(), expiresAt: z.iso.datetime() }) },
        },
      },
      async (request) => {
        const result = await deps.auth.createSseTicket(principalOf(request).userId);
        return { ticket: result.ticket, expiresAt: result.expiresAt.toISOString() };
      },
    );
  };
}
