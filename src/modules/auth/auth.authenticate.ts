import type { FastifyRequest } from 'fastify';
import { type Principal, unauthenticated } from '../../platform/http/access.ts';
import type { UsersService } from '../users/users.service.ts';
import type { AccessTokens } from './auth.tokens.ts';

const BEARER = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i;

/** The bearer token of a request, if it has a well-formed Authorization header. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  return header ? BEARER.exec(header)?.[1] : undefined;
}

/**
 * Turns a request's access token into the caller. The token must verify AND match the user's
 * current token version and status, so logout, role changes, disabling and deleting end existing
 * tokens at once. Access tokens are read from the Authorization header only, never from cookies
 * or the query string.
 */
export function createAuthenticator(deps: {
  accessTokens: AccessTokens;
  users: UsersService;
  /** The user of a single-use SSE ticket, consuming it; undefined when unknown, used or expired. */
  redeemTicket?: (ticket: string) => Promise<string | undefined>;
}) {
  const ticketOf = (request: FastifyRequest) => {
    if (!request.routeOptions.config.sseTicket) return undefined;
    const ticket = (request.query as Record<string, unknown> | undefined)?.ticket;
    return typeof ticket === 'string' && ticket.length > 0 ? ticket : undefined;
  };
  const principalOf = async (userId: string, sessionId?: string): Promise<Principal> => {
    const state = await deps.users.authState(userId);
    if (!state?.active) throw unauthenticated('This session has ended; sign in again.');
    return {
      userId: state.userId,
      role: state.role,
      email: state.email,
      name: state.name,
      ...(sessionId ? { sessionId } : {}),
    };
  };
  return async (request: FastifyRequest): Promise<Principal | null> => {
    if (request.headers.authorization === undefined) {
      const ticket = ticketOf(request);
      if (!ticket || !deps.redeemTicket) return null;
      const userId = await deps.redeemTicket(ticket);
      if (!userId) throw unauthenticated('The ticket is unknown, used or expired; get a new one.');
      return principalOf(userId);
    }
    const token = bearerToken(request);
    if (!token) throw unauthenticated('Send the access token as "Authorization: Bearer <token>".');
    const claims = await deps.accessTokens.verify(token);
    if (!claims) throw unauthenticated('The access token is invalid or has expired.');
    const state = await deps.users.authState(claims.userId);
    if (!state?.active || state.tokenVersion !== claims.tokenVersion) {
      throw unauthenticated('This session has ended; sign in again.');
    }
    return {
      userId: state.userId,
      role: state.role,
      email: state.email,
      name: state.name,
      ...(claims.sessionId ? { sessionId: claims.sessionId } : {}),
    };
  };
}
