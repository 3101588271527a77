import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import {
  type FastifyPluginAsyncZod,
  hasZodFastifySchemaValidationErrors,
} from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isAppError } from '../../platform/errors/errors.ts';
import { principalOf } from '../../platform/http/access.ts';
import {
  BATCH_CONVERSION_ERROR,
  CONVERSION_ERROR,
  isJudge0Error,
  judge0BadRequest,
  judge0NotFound,
} from './judge0.errors.ts';
import {
  isTrue,
  JUDGE0_VERSION,
  KEY_OWNER,
  parseFields,
  STATUSES,
  type ValidationErrors,
} from './judge0.models.ts';
import { presentSubmission } from './judge0.presenter.ts';
import {
  about,
  batchBody,
  batchCreateQuery,
  batchReadQuery,
  configInfo,
  judge0ErrorBody,
  language,
  languageDetail,
  languageParams,
  readQuery,
  status,
  submissionBody,
  submissionQuery,
  submissionResult,
  tokenParams,
} from './judge0.schemas.ts';
import type { Judge0Service } from './judge0.service.ts';

const HEADER = 'x-auth-token';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * X-Auth-Token against the configured key, in constant time (both sides hashed to one length).
 * Without a configured key no X-Auth-Token can be valid.
 */
export function createKeyCheck(key: string | undefined) {
  const expected = key ? digest(key) : undefined;
  return (request: FastifyRequest): 'valid' | 'invalid' | 'absent' => {
    const sent = request.headers[HEADER];
    if (sent === undefined) return 'absent';
    if (typeof sent !== 'string' || !expected) return 'invalid';
    return timingSafeEqual(digest(sent), expected) ? 'valid' : 'invalid';
  };
}

/**
 * The Judge0 CE 1.13.1 API under /judge0, for Judge0 clients pointed at Assay. Errors keep
 * Judge0's shapes; everything else (401, 429, 5xx) is Assay's problem documents.
 */
export function judge0Routes(deps: {
  judge0: Judge0Service;
  authToken: string | undefined;
  rateLimits: { anonymousPerMinute: number; userPerMinute: number };
  /** Creating submissions runs code, so it is limited like POST /api/v1/runs. */
  runsPerMinute: number;
}): FastifyPluginAsyncZod {
  const tags = ['judge0'];
  const keyCheck = createKeyCheck(deps.authToken);
  // The key is one trusted backend serving many people (counted per IP, as it names no user):
  // it gets a signed-in user's general allowance, also for creating submissions.
  const perMinute = (userMax: number) => ({
    timeWindow: 60_000,
    max: (request: FastifyRequest, key: string) => {
      if (keyCheck(request) === 'valid') return deps.rateLimits.userPerMinute;
      return key.startsWith('user:') ? userMax : deps.rateLimits.anonymousPerMinute;
    },
  });
  const config = {
    access: 'authenticated' as const,
    apiKey: keyCheck,
    rateLimit: perMinute(deps.rateLimits.userPerMinute),
  };
  const createConfig = { ...config, rateLimit: perMinute(deps.runsPerMinute) };
  const security: Array<Record<string, string[]>> = [{ bearer: [] }, { judge0Key: [] }];
  const ownerOf = (request: FastifyRequest) =>
    keyCheck(request) === 'valid' ? KEY_OWNER : principalOf(request).userId;
  const fieldsOf = (param: string | undefined) => {
    const parsed = parseFields(param);
    if (!parsed.ok) throw judge0BadRequest(parsed.error);
    return parsed.fields;
  };
  const presentOptions = async (fields: ReturnType<typeof fieldsOf>, base64: boolean) => ({
    fields,
    base64,
    languages: await deps.judge0.languages(),
    limits: deps.judge0.limits(),
  });

  return async (app) => {
    app.setErrorHandler((error, _request, reply) => {
      if (isJudge0Error(error)) {
        if (error.headers) reply.headers(error.headers);
        return reply.status(error.status).send(error.body);
      }
      // Judge0 has no schema errors; a wrongly typed attribute is a model error there, and so is
      // text refused before the schema (no database keeps it). `segments` is a field's path.
      const invalid = (paths: string[][]) => {
        const errors: ValidationErrors = {};
        for (const segments of paths) {
          const field = segments.filter(Boolean).at(-1) ?? 'base';
          errors[field] = [...(errors[field] ?? []), 'is invalid'];
        }
        return reply.status(422).send(errors);
      };
      if (hasZodFastifySchemaValidationErrors(error)) {
        return invalid(error.validation.map((issue) => issue.instancePath.split('/')));
      }
      if (isAppError(error) && error.code === 'VALIDATION_FAILED' && error.errors) {
        return invalid(error.errors.map(({ path }) => path.split(/[.[\]]/)));
      }
      throw error;
    });

    app.get(
      '/about',
      {
        config,
        schema: {
          tags,
          security,
          summary: 'Judge0 version (SDKs pick language aliases by it)',
          response: { 200: about },
        },
      },
      async () => ({
        version: JUDGE0_VERSION,
        homepage: 'https://github.com/assay-platform/assay',
        source_code: 'https://github.com/assay-platform/assay',
        maintainer: 'Assay (Judge0-compatible surface)',
      }),
    );

    app.get(
      '/config_info',
      {
        config,
        schema: {
          tags,
          security,
          summary: "Judge0's configuration keys with the limits Assay enforces",
          response: { 200: configInfo },
        },
      },
      async () => deps.judge0.configInfo(),
    );

    app.get(
      '/languages',
      {
        config,
        schema: {
          tags,
          security,
          summary: 'Languages with a toolchain on this machine, by Judge0 CE id',
          response: { 200: language.array() },
        },
      },
      async () => (await deps.judge0.languages()).map(({ id, name }) => ({ id, name })),
    );

    app.get(
      '/languages/:id',
      {
        config,
        schema: {
          tags,
          security,
          summary: 'One language',
          params: languageParams,
          response: { 200: languageDetail, 404: judge0ErrorBody },
        },
      },
      async (request) => {
        const id = Number(request.params.id);
        const found = Number.isInteger(id) ? await deps.judge0.language(id) : undefined;
        if (!found) throw judge0NotFound();
        return { id: found.id, name: found.name, is_archived: false };
      },
    );

    app.get(
      '/statuses',
      {
        config,
        schema: {
          tags,
          security,
          summary: 'Judge0 statuses 1–14',
          response: { 200: status.array() },
        },
      },
      async () => STATUSES.map(({ id, description }) => ({ id, description })),
    );

    app.post(
      '/submissions',
      {
        config: createConfig,
        schema: {
          tags,
          security,
          summary: 'Create a submission: 201 { token }, or the result with wait=true',
          querystring: submissionQuery,
          body: submissionBody,
          response: { 201: submissionResult, 400: judge0ErrorBody, 422: judge0ErrorBody },
        },
      },
      async (request, reply) => {
        const base64 = isTrue(request.query.base64_encoded);
        const wait = isTrue(request.query.wait);
        const fields = fieldsOf(request.query.fields);
        const created = await deps.judge0.create({
          owner: ownerOf(request),
          body: request.body,
          base64,
          wait,
        });
        if (!('statusId' in created)) return reply.status(201).send({ token: created.token });
        const body = presentSubmission(created, await presentOptions(fields, base64));
        // Judge0 still answers 201: the submission exists, only its texts cannot be shown.
        return reply.status(201).send(body ?? { error: CONVERSION_ERROR, token: created.token });
      },
    );

    app.post(
      '/submissions/batch',
      {
        config: createConfig,
        schema: {
          tags,
          security,
          summary: 'Create up to 20 submissions: [{ token } | errors] in order',
          querystring: batchCreateQuery,
          body: batchBody,
          response: {
            201: submissionResult.array(),
            400: judge0ErrorBody,
            422: submissionResult.array(),
          },
        },
      },
      async (request, reply) => {
        const { created, results } = await deps.judge0.createBatch({
          owner: ownerOf(request),
          items: request.body?.submissions,
          base64: isTrue(request.query.base64_encoded),
        });
        return reply.status(created ? 201 : 422).send(results);
      },
    );

    app.get(
      '/submissions/batch',
      {
        config,
        schema: {
          tags,
          security,
          summary: 'Read up to 20 submissions by token (null for unknown tokens)',
          querystring: batchReadQuery,
          response: {
            200: z.object({ submissions: z.array(submissionResult.nullable()) }),
            400: judge0ErrorBody,
          },
        },
      },
      async (request) => {
        const base64 = isTrue(request.query.base64_encoded);
        const fields = fieldsOf(request.query.fields);
        const tokens = (request.headers.tokens ?? request.query.tokens ?? '')
          .toString()
          .trim()
          .split(',')
          .filter((token) => token.length > 0);
        const rows = await deps.judge0.getMany(ownerOf(request), tokens);
        const options = await presentOptions(fields, base64);
        const submissions = rows.map((row) => (row ? presentSubmission(row, options) : null));
        if (submissions.some((item, index) => item === null && rows[index] !== null)) {
          throw judge0BadRequest(BATCH_CONVERSION_ERROR);
        }
        return { submissions };
      },
    );

    app.get(
      '/submissions/:token',
      {
        config,
        schema: {
          tags,
          security,
          summary: 'One submission (status 1 In Queue, 2 Processing, then its result)',
          params: tokenParams,
          querystring: readQuery,
          response: { 200: submissionResult, 400: judge0ErrorBody, 404: judge0ErrorBody },
        },
      },
      async (request) => {
        // Judge0 checks `fields` before it looks the submission up.
        const fields = fieldsOf(request.query.fields);
        const row = await deps.judge0.get(ownerOf(request), request.params.token);
        const body = presentSubmission(
          row,
          await presentOptions(fields, isTrue(request.query.base64_encoded)),
        );
        if (!body) throw judge0BadRequest(CONVERSION_ERROR);
        return body;
      },
    );
  };
}
