import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/access.ts';
import { pageOf } from '../../platform/http/pagination.ts';
import { auditRequest } from '../audit/audit.request.ts';
import type { AuditService } from '../audit/audit.service.ts';
import {
  questionIdParams,
  questionInput,
  questionListQuery,
  randomQuery,
  staffQuestion,
  studentQuestion,
} from './questions.schemas.ts';
import type { QuestionsService } from './questions.service.ts';

const STAFF = ['admin', 'instructor'] as const;

export function questionsRoutes(deps: {
  questions: QuestionsService;
  audit: AuditService;
}): FastifyPluginAsyncZod {
  const tags = ['questions'];
  return async (app) => {
    const audited = (request: FastifyRequest, action: string, id: string) =>
      auditRequest(deps.audit, request, { action, target: { type: 'question', id } });

    app.get(
      '/questions/random',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary: 'A randomized practice set, never with answer keys',
          querystring: randomQuery,
          response: { 200: z.object({ items: z.array(studentQuestion) }) },
        },
      },
      async (request) => {
        const { tags: wanted, language, level, count } = request.query;
        return deps.questions.random({
          count,
          ...(wanted ? { tags: wanted } : {}),
          ...(language ? { language } : {}),
          ...(level ? { level } : {}),
        });
      },
    );

    app.get(
      '/questions',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'The question bank, with answer keys',
          querystring: questionListQuery,
          response: { 200: pageOf(staffQuestion) },
        },
      },
      async (request) => {
        const { type, tags: wanted, language, level, q, limit, cursor } = request.query;
        return deps.questions.list({
          limit,
          ...(type ? { type } : {}),
          ...(wanted ? { tags: wanted } : {}),
          ...(language ? { language } : {}),
          ...(level ? { level } : {}),
          ...(q ? { q } : {}),
          ...(cursor ? { cursor } : {}),
        });
      },
    );

    app.post(
      '/questions',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Create a question (validated per type)',
          body: questionInput,
          response: { 201: staffQuestion },
        },
      },
      async (request, reply) => {
        const question = await deps.questions.create(request.body, principalOf(request).userId);
        await audited(request, 'questions.created', question.id);
        return reply.status(201).send(question);
      },
    );

    app.get(
      '/questions/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'One question, with its key',
          params: questionIdParams,
          response: { 200: staffQuestion },
        },
      },
      async (request) => deps.questions.get(request.params.id),
    );

    app.put(
      '/questions/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Replace a question',
          params: questionIdParams,
          body: questionInput,
          response: { 200: staffQuestion },
        },
      },
      async (request) => {
        const question = await deps.questions.replace(request.params.id, request.body);
        await audited(request, 'questions.updated', question.id);
        return question;
      },
    );

    app.delete(
      '/questions/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Soft-delete a question',
          params: questionIdParams,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await deps.questions.remove(request.params.id);
        await audited(request, 'questions.deleted', request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
