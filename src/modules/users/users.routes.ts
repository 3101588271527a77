import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/access.ts';
import { pageOf } from '../../platform/http/pagination.ts';
import { requestContext } from '../../platform/http/request-context.ts';
import type { AuditService } from '../audit/audit.service.ts';
import { weakPassword } from '../auth/auth.errors.ts';
import { passwordProblem } from '../auth/password-policy.ts';
import {
  createUserBody,
  patchUserBody,
  userIdParams,
  userListQuery,
  userSchema,
} from './users.schemas.ts';
import type { UsersService } from './users.service.ts';

/** Account administration. Every route is admin-only, and every change is audited. */
export function usersRoutes(deps: {
  users: UsersService;
  audit: AuditService;
}): FastifyPluginAsyncZod {
  const tags = ['users'];
  const access = ['admin'] as const;
  return async (app) => {
    app.get(
      '/users',
      {
        config: { access },
        schema: {
          tags,
          summary: 'List accounts (filters: role, q)',
          querystring: userListQuery,
          response: { 200: pageOf(userSchema) },
        },
      },
      async (request) => {
        const { role, q, limit, cursor } = request.query;
        return deps.users.list({
          limit,
          ...(role ? { role } : {}),
          ...(q ? { q } : {}),
          ...(cursor ? { cursor } : {}),
        });
      },
    );

    app.get(
      '/users/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'One account',
          params: userIdParams,
          response: { 200: userSchema },
        },
      },
      async (request) => deps.users.get(request.params.id),
    );

    app.post(
      '/users',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Create an active account',
          body: createUserBody,
          response: { 201: userSchema },
        },
      },
      async (request, reply) => {
        const problem = passwordProblem(request.body.password, request.body);
        if (problem) throw weakPassword('body.password', problem);
        const user = await deps.users.createActive(request.body);
        const actor = principalOf(request);
        await deps.audit.record({
          action: 'users.created',
          actor: { id: actor.userId, email: actor.email },
          target: { type: 'user', id: user.id },
          context: requestContext(request),
          details: { role: user.role, email: user.email },
        });
        return reply.status(201).send(user);
      },
    );

    app.patch(
      '/users/:id',
      {
        config: { access },
        schema: {
          tags,
          summary:
            'Change name, role or disabled; role and status changes end the user’s sessions at once',
          params: userIdParams,
          body: patchUserBody,
          response: { 200: userSchema },
        },
      },
      async (request) => {
        const actor = principalOf(request);
        const { user, before } = await deps.users.patch({
          actorId: actor.userId,
          userId: request.params.id,
          changes: request.body,
        });
        const common = {
          actor: { id: actor.userId, email: actor.email },
          target: { type: 'user', id: user.id },
          context: requestContext(request),
        };
        if (before.role !== user.role) {
          await deps.audit.record({
            ...common,
            action: 'users.role_changed',
            details: { from: before.role, to: user.role },
          });
        }
        if (before.disabled !== user.disabled) {
          await deps.audit.record({
            ...common,
            action: user.disabled ? 'users.disabled' : 'users.enabled',
          });
        }
        if (before.name !== user.name)
          await deps.audit.record({ ...common, action: 'users.renamed' });
        return user;
      },
    );

    app.delete(
      '/users/:id',
      {
        config: { access },
        schema: {
          tags,
          summary: 'Soft-delete an account; its sessions end at once',
          params: userIdParams,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        const actor = principalOf(request);
        const user = await deps.users.softDelete({
          userId: request.params.id,
          byAdminId: actor.userId,
        });
        await deps.audit.record({
          action: 'users.deleted',
          actor: { id: actor.userId, email: actor.email },
          target: { type: 'user', id: user.id },
          context: requestContext(request),
        });
        return reply.status(204).send(null);
      },
    );
  };
}
