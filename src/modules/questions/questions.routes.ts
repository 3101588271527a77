import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../platform/http/access.ts';
import { pageOf } from '../../platform/http/pagination.ts';
import { auditRequest } from '../audit/audit.request.ts';
import type { AuditService } from '../audit/audit.service.ts';
import {
  exportQuery,
  IMPORT_LIMIT_BYTES,
  importBody,
  importResult,
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

    app.post(
      '/questions/import',
      {
        config: { access: STAFF },
        // Moodle exports run large; the JSON limit elsewhere stays at BODY_LIMIT_BYTES.
        bodyLimit: IMPORT_LIMIT_BYTES,
        schema: {
          tags,
          summary: 'Import questions from GIFT, Moodle XML or JSON',
          description:
            'Stores every sound question of the document (in one statement) and reports each one it could not take, with its line, name and type: unsupported types (essay, matching, cloze, …) are errors, never silently dropped. Code questions exist only in JSON.',
          body: importBody,
          response: { 200: importResult },
        },
      },
      async (request) => {
        const result = await deps.questions.importDocument(
          request.body.format,
          request.body.content,
          principalOf(request).userId,
        );
        await auditRequest(deps.audit, request, {
          action: 'questions.imported',
          target: { type: 'question', id: result.ids[0] ?? 'none' },
          details: {
            format: request.body.format,
            imported: result.imported,
            errors: result.errors.length,
          },
        });
        return result;
      },
    );

    app.get(
      '/questions/export',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Export the bank (or a filtered part) as GIFT, Moodle XML or JSON',
          description:
            'A file download. Questions a format cannot carry (code questions in GIFT and Moodle XML) are left out and counted in the X-Assay-Skipped header. GIFT carries no points, tags, level or language; Moodle XML no level or language; JSON everything.',
          querystring: exportQuery,
          response: {
            200: z.string().describe('the document').meta({
              description: 'text/plain (GIFT), application/xml (Moodle XML) or application/json',
            }),
          },
        },
      },
      async (request, reply) => {
        const { format, type, tags: wanted, language, level, q } = request.query;
        const document = await deps.questions.exportDocument(format, {
          ...(type ? { type } : {}),
          ...(wanted?.length ? { tags: wanted } : {}),
          ...(language ? { language } : {}),
          ...(level ? { level } : {}),
          ...(q ? { q } : {}),
        });
        return reply
          .header('content-type', document.contentType)
          .header('content-disposition', `attachment; filename="questions.${document.extension}"`)
          .header('x-assay-skipped', String(document.skipped.length))
          .send(document.body);
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
