import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Role } from '../../modules/users/users.models.ts';
import { AppError } from '../errors/errors.ts';

/**
 * Every route says who may call it, in `config.access`:
 *   'public'         anyone, no token needed
 *   'authenticated'  any signed-in user
 *   Role[]           signed-in users with one of these roles (ownership is the service's job)
 * A route without a declaration refuses to register, so no route is ever open by accident.
 */
export type Access = 'public' | 'authenticated' | readonly Role[];

/** The caller. `sessionId` names the sign-in (refresh-token family) the token belongs to. */
export type Principal = {
  userId: string;
  role: Role;
  email: string;
  name: string;
  sessionId?: string;
};

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /**
     * A key some routes take instead of a bearer token (the Judge0 surface's X-Auth-Token):
     * 'valid' lets the request through without a principal, 'invalid' is 401, 'absent' falls
     * back to the bearer token.
     */
    apiKey?: (request: FastifyRequest) => 'valid' | 'invalid' | 'absent';
    /**
     * EventSource cannot send headers: such routes also take a single-use ticket from
     * POST /auth/sse-ticket as `?ticket=`.
     */
    sseTicket?: boolean;
  }
  interface FastifyRequest {
    /** Set by the authentication hook when the request carried a valid access token. */
    principal: Principal | null;
  }
}

export const unauthenticated = (detail = 'Sign in to do this.') =>
  new AppError({
    code: 'UNAUTHENTICATED',
    status: 401,
    title: 'Authentication required',
    detail,
    headers: { 'www-authenticate': 'Bearer' },
  });

export const forbidden = (detail = 'Your role does not allow this.') =>
  new AppError({ code: 'FORBIDDEN', status: 403, title: 'Forbidden', detail });

/** Routes the platform itself serves that need no declaration (docs assets under these prefixes). */
const PLATFORM_PREFIXES = ['/docs', '/redoc'];

export function registerAccessControl(
  app: FastifyInstance,
  options: { authenticate: (request: FastifyRequest) => Promise<Principal | null> },
) {
  app.decorateRequest('principal', null);

  app.addHook('onRoute', (route) => {
    const config = route.config as { access?: Access } | undefined;
    if (config?.access === 'public' && route.schema) {
      // Documented as open: the docs page sends no token, and clients see none is needed.
      route.schema = { ...route.schema, security: [] } as typeof route.schema;
    }
    if (config?.access !== undefined) return;
    if (PLATFORM_PREFIXES.some((prefix) => route.url.startsWith(prefix))) {
      route.config = { ...(route.config ?? {}), access: 'public' } as typeof route.config;
      return;
    }
    if (route.method === 'HEAD' || (Array.isArray(route.method) && route.method.includes('HEAD')))
      return;
    throw new Error(
      `route ${String(route.method)} ${route.url} declares no access policy (config.access)`,
    );
  });

  // preValidation: after the rate limiter (onRequest) has counted the request, before the body is
  // validated, so an anonymous caller learns nothing about a protected route's schema.
  app.addHook('preValidation', async (request) => {
    const access = request.routeOptions.config.access ?? 'public';
    if (access === 'public') {
      // A token on a public route is still read (e.g. to personalise), but never required.
      request.principal = await options.authenticate(request).catch(() => null);
      return;
    }
    const key = request.routeOptions.config.apiKey?.(request) ?? 'absent';
    if (key === 'valid') return;
    if (key === 'invalid') throw unauthenticated('The API key is not valid.');
    const principal = await options.authenticate(request);
    if (!principal) throw unauthenticated();
    request.principal = principal;
    if (access !== 'authenticated' && !access.includes(principal.role)) throw forbidden();
  });
}

/** The signed-in caller of a route that requires one. */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthenticated();
  return request.principal;
}
