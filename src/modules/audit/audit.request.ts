import type { FastifyRequest } from 'fastify';
import { principalOf } from '../../platform/http/access.ts';
import { requestContext } from '../../platform/http/request-context.ts';
import type { AuditService } from './audit.service.ts';

/** Records a staff write made by the signed-in caller of `request`. */
export async function auditRequest(
  audit: AuditService,
  request: FastifyRequest,
  entry: {
    action: string;
    target: { type: string; id: string };
    details?: Record<string, unknown>;
  },
): Promise<void> {
  const actor = principalOf(request);
  await audit.record({
    action: entry.action,
    actor: { id: actor.userId, email: actor.email },
    target: entry.target,
    context: requestContext(request),
    ...(entry.details ? { details: entry.details } : {}),
  });
}
