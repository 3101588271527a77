import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { type FieldError, validationFailed } from '../../platform/errors/errors.ts';
import { principalOf } from '../../platform/http/access.ts';
import { pageOf } from '../../platform/http/pagination.ts';
import { auditRequest } from '../audit/audit.request.ts';
import type { AuditService } from '../audit/audit.service.ts';
import {
  addedTestCases,
  archiveFields,
  challengeIdParams,
  challengeInput,
  challengeListQuery,
  challengeSchema,
  challengeSummary,
  testCasesBody,
  UPLOAD_LIMIT_BYTES,
} from './challenges.schemas.ts';
import type { ChallengesService } from './challenges.service.ts';

const STAFF = ['admin', 'instructor'] as const;
const FIELD_BYTES = 10_000;

/** The zip and the optional `hidden` / `weight` fields of a multipart test upload. */
async function readUpload(request: FastifyRequest) {
  let archive: Buffer | undefined;
  const fields: Record<string, string> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'file' || archive)
        throw validationFailed([
          { path: `body.${part.fieldname}`, message: 'send one zip, in the field "file"' },
        ]);
      archive = await part.toBuffer();
    } else {
      if (part.valueTruncated)
        throw validationFailed([
          { path: `body.${part.fieldname}`, message: `longer than ${FIELD_BYTES} bytes` },
        ]);
      fields[part.fieldname] = String(part.value);
    }
  }
  if (!archive)
    throw validationFailed([
      { path: 'body.file', message: 'is required: a zip of N.in / N.out pairs' },
    ]);
  const parsed = archiveFields.safeParse(fields);
  if (!parsed.success) {
    throw validationFailed(
      parsed.error.issues.flatMap((issue): FieldError[] =>
        issue.code === 'unrecognized_keys'
          ? issue.keys.map((key) => ({ path: `body.${key}`, message: 'is not a known field' }))
          : [{ path: ['body', ...issue.path].join('.'), message: issue.message }],
      ),
    );
  }
  return { archive, ...parsed.data };
}

export function challengesRoutes(deps: {
  challenges: ChallengesService;
  audit: AuditService;
}): FastifyPluginAsyncZod {
  const tags = ['challenges'];
  return async (app) => {
    // Only this plugin takes multipart bodies (test archives); elsewhere they stay 415.
    await app.register(multipart, {
      limits: {
        fileSize: UPLOAD_LIMIT_BYTES,
        // Two, so that a second file part reaches readUpload, which says what is wrong with it.
        files: 2,
        fields: 10,
        parts: 12,
        fieldSize: FIELD_BYTES,
      },
    });

    const audited = (
      request: FastifyRequest,
      action: string,
      id: string,
      details?: Record<string, unknown>,
    ) =>
      auditRequest(deps.audit, request, {
        action,
        target: { type: 'challenge', id },
        ...(details ? { details } : {}),
      });

    app.get(
      '/challenges',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary:
            'Live challenges, newest first (summaries: GET one for its statement and examples)',
          querystring: challengeListQuery,
          response: { 200: pageOf(challengeSummary) },
        },
      },
      async (request) => {
        const { difficulty, language, limit, cursor } = request.query;
        return deps.challenges.list(principalOf(request), {
          limit,
          ...(difficulty ? { difficulty } : {}),
          ...(language ? { language } : {}),
          ...(cursor ? { cursor } : {}),
        });
      },
    );

    app.get(
      '/challenges/:id',
      {
        config: { access: 'authenticated' },
        schema: {
          tags,
          summary:
            'One challenge: statement, starter code, public tests as examples (staff: every test)',
          params: challengeIdParams,
          response: { 200: challengeSchema },
        },
      },
      async (request) => deps.challenges.get(principalOf(request), request.params.id),
    );

    app.post(
      '/challenges',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Create a challenge (its tests are added with POST /challenges/{id}/testcases)',
          description:
            'Languages must be offered by this server’s sandbox (GET /api/v1/languages); limits may not exceed the sandbox’s maxima.',
          body: challengeInput,
          response: { 201: challengeSchema },
        },
      },
      async (request, reply) => {
        const challenge = await deps.challenges.create(principalOf(request), request.body);
        await audited(request, 'challenges.created', challenge.id);
        return reply.status(201).send(challenge);
      },
    );

    app.put(
      '/challenges/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Replace a challenge’s fields (author or admin); its tests stay',
          params: challengeIdParams,
          body: challengeInput,
          response: { 200: challengeSchema },
        },
      },
      async (request) => {
        const challenge = await deps.challenges.replace(
          principalOf(request),
          request.params.id,
          request.body,
        );
        await audited(request, 'challenges.updated', challenge.id);
        return challenge;
      },
    );

    app.delete(
      '/challenges/:id',
      {
        config: { access: STAFF },
        schema: {
          tags,
          summary: 'Soft delete (author or admin); its test data is kept for the submissions made',
          params: challengeIdParams,
          response: { 204: z.null() },
        },
      },
      async (request, reply) => {
        await deps.challenges.remove(principalOf(request), request.params.id);
        await audited(request, 'challenges.deleted', request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/challenges/:id/testcases',
      {
        // No bodyLimit of its own: JSON keeps the limit of every JSON body (the multipart plugin
        // reads uploads under its own, below).
        config: { access: STAFF },
        schema: {
          tags,
          summary:
            'Add test cases (author or admin): a JSON array, or a multipart zip of N.in / N.out',
          description:
            'Appends after the existing tests. JSON: `[{ input, expectedOutput, hidden?, weight? }]`, a body within the JSON limit of every route (1 MiB by default, `BODY_LIMIT_BYTES`; 413 PAYLOAD_TOO_LARGE), so larger tests go in a zip. Multipart: field `file` a zip whose entries are all top-level `N.in` / `N.out` pairs (anything else, and every unpaired file, is refused by name), added in order of N; `hidden`: `true`, `false` (default) or test numbers (`2,5`); `weight`: one number for all or `N:w` pairs (`1:0,3:2`), others 1. At most 20 MiB packed, 1,000 entries, 64 MiB per entry and 200 MiB in all unpacked (413 ARCHIVE_TOO_LARGE).',
          params: challengeIdParams,
          body: testCasesBody,
          response: { 201: addedTestCases },
        },
      },
      async (request, reply) => {
        const principal = principalOf(request);
        const { id } = request.params;
        let added: Awaited<ReturnType<ChallengesService['addTests']>>;
        if (request.isMultipart()) {
          // Refuse strangers before reading their 20 MiB.
          await deps.challenges.checkManages(principal, id);
          added = await deps.challenges.addArchive(principal, id, await readUpload(request));
        } else if (request.body) {
          added = await deps.challenges.addTests(principal, id, request.body);
        } else {
          throw validationFailed([
            {
              path: 'body',
              message:
                'send a JSON array of test cases, or a multipart upload with a zip in "file"',
            },
          ]);
        }
        await audited(request, 'challenges.testcases_added', id, {
          count: added.testCases.length,
          hidden: added.testCases.filter((test) => test.hidden).length,
        });
        return reply.status(201).send(added);
      },
    );
  };
}
