import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { pageOf, pageQuery } from '../../platform/http/pagination.ts';
import type { AuditService } from './audit.service.ts';

const entry = z
  .object({
    id: z.string(),
    at: z.iso.datetime(),
    action: z.string(),
    actorId: z.string().nullable(),
    actorEmail: z.string().nullable(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    ip: z.string().nullable(),
    requestId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEntry' });

export function auditRoutes(deps: { audit: AuditService }): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/admin/audit-log',
      {
        config: { access: ['admin'] },
        schema: {
          tags: ['audit'],
          summary: 'Who did what to which object, newest first',
          querystring: z.strictObject({
            actor: z.string().max(100).optional().describe('actor user id'),
            action: z.string().max(100).optional().describe('e.g. auth.login_failed'),
            from: z.iso.datetime({ offset: true }).optional(),
            to: z.iso.datetime({ offset: true }).optional(),
            ...pageQuery,
          }),
          response: { 200: pageOf(entry) },
        },
      },
      async (request) => {
        const { actor, action, from, to, limit, cursor } = request.query;
        return deps.audit.list({
          ...(actor ? { actorId: actor } : {}),
          ...(action ? { action } : {}),
          ...(from ? { from: new Date(from) } : {}),
          ...(to ? { to: new Date(to) } : {}),
          limit,
          ...(cursor ? { cursor } : {}),
        });
      },
    );
  };
}
