import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../../modules/audit/audit.service.ts';

/** The caller's address and the request id, as services record them. */
export function requestContext(request: FastifyRequest): RequestContext {
  const agent = request.headers['user-agent'];
  return {
    ip: request.ip ?? null,
    requestId: request.id,
    userAgent: typeof agent === 'string' ? agent.slice(0, 300) : null,
  };
}
