import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/access.ts';
import { pageOf } from '../../platform/http/pagination.ts';
import { auditRequest } from '../audit/audit.request.ts';
import type { AuditService } from '../audit/audit.service.ts';
import {
  createQuizBody,
  patchQuizBody,
  quizIdParams,
  quizListQuery,
  quizSchema,
} from './quizzes.schemas.ts';
import type { QuizzesService } from './quizzes.service.ts';

const STAFF = ['admin', 'instructor'] as const;

export function quizzesRoutes(deps: {
  quizzes: QuizzesService;
  audit: AuditService;
}): FastifyPluginAsyncZod {
  const tags = ['quizzes'];
  return async (app) => {
    const audited = (request: FastifyRequest, action: string, id: string) =>
      auditRequest(deps.audit, request, { action, target: { type: 'quiz', id } });

    app.post(
      '/quizzes',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Create a draft quiz',
          body: createQuizBody,
          response: { 201: quizSchema },
        },
      },
      async (request, reply) => {
        const quiz = await deps.quizzes.create(principalOf(request), request.body);
        await audited(request, 'quizzes.created', quiz.id);
        return reply.status(201).send(quiz);
      },
    );

    app.get(
      '/quizzes',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'Students: published quizzes open now. Instructors: their own. Admins: all.',
          querystring: quizListQuery,
          response: { 200: pageOf(quizSchema) },
        },
      },
      async (request) => {
        const { status, limit, cursor } = request.query;
        return deps.quizzes.list(principalOf(request), {
          limit,
          ...(status ? { status } : {}),
          ...(cursor ? { cursor } : {}),
        });
      },
    );

    app.get(
      '/quizzes/:id',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'One quiz (students: no question list)',
          params: quizIdParams,
          response: { 200: quizSchema },
        },
      },
      async (request) => deps.quizzes.get(principalOf(request), request.params.id),
    );

    app.patch(
      '/quizzes/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Edit (author or admin)',
          params: quizIdParams,
          body: patchQuizBody,
          response: { 200: quizSchema },
        },
      },
      async (request) => {
        const quiz = await deps.quizzes.patch(
          principalOf(request),
          request.params.id,
          request.body,
        );
        await audited(request, 'quizzes.updated', quiz.id);
        return quiz;
      },
    );

    app.post(
      '/quizzes/:id/publish',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Publish (author or admin)',
          params: quizIdParams,
          response: { 200: quizSchema },
        },
      },
      async (request) => {
        const quiz = await deps.quizzes.publish(principalOf(request), request.params.id);
        await audited(request, 'quizzes.published', quiz.id);
        return quiz;
      },
    );

    app.delete(
      '/quizzes/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Soft delete (author or admin)',
          params: quizIdParams,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await deps.quizzes.remove(principalOf(request), request.params.id);
        await audited(request, 'quizzes.deleted', request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
