import type {
  FastifyError,
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  preHandlerHookHandler,
} from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { postgresErrorCode } from '../db/database.ts';
import { type FieldError, isAppError } from '../errors/errors.ts';
import { findText } from './well-formed-text.ts';

/**
 * What PostgreSQL says of text it cannot store (a NUL character, in text or in JSON): the
 * client's input, not our failure, wherever a schema did not refuse it first.
 */
const UNSTORABLE_TEXT = new Set(['22P05', '22021']);
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is what this looks for.
const NUL = /\u0000/;

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  instance?: string;
  requestId?: string;
  errors?: FieldError[];
};

const problemType = (code: string) =>
  `urn:assay:problem:${code.toLowerCase().replaceAll('_', '-')}`;

export function sendProblem(
  request: FastifyRequest,
  reply: FastifyReply,
  problem: Omit<Problem, 'type' | 'instance' | 'requestId'>,
) {
  const body: Problem = {
    type: problemType(problem.code),
    ...problem,
    instance: request.url.split('?')[0] ?? request.url,
    requestId: request.id,
  };
  return reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(body);
}

/** Turns a JSON pointer (`/options/1/text`) into the path a client would write: `options[1].text`. */
function formatPath(pointer: string): string {
  let path = '';
  for (const segment of pointer.split('/').filter((part) => part.length > 0)) {
    if (/^\d+$/.test(segment)) path += `[${segment}]`;
    else path += path ? `.${segment}` : segment;
  }
  return path;
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'VALIDATION_FAILED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
  // @fastify/multipart's limits (an upload's file, files, fields or parts).
  FST_REQ_FILE_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_FILES_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_FIELDS_LIMIT: 'PAYLOAD_TOO_LARGE',
  FST_PARTS_LIMIT: 'PAYLOAD_TOO_LARGE',
};

const HTTP_TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  405: 'Method not allowed',
  406: 'Not acceptable',
  409: 'Conflict',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};

/**
 * The one place errors become responses. Domain errors carry their status and code; schema
 * failures become 400 with `errors[]`; Fastify's own 4xx keep their (safe) message; everything
 * else is a 500 whose details go to the log, never to the client.
 */
export function registerProblemHandlers(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (isAppError(error)) {
      if (error.headers) reply.headers(error.headers);
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      return sendProblem(request, reply, {
        title: error.title,
        status: error.status,
        detail: error.message,
        code: error.code,
        ...(error.errors ? { errors: error.errors } : {}),
      });
    }
    if (hasZodFastifySchemaValidationErrors(error)) {
      const errors = error.validation.map((issue) => {
        const where = error.validationContext ?? 'body';
        const path = formatPath(issue.instancePath);
        return {
          // A body that is an array has paths like `[0].input`: `body[0].input`, not `body.[0]`.
          path: path ? `${where}${path.startsWith('[') ? '' : '.'}${path}` : where,
          message: issue.message ?? 'is not valid',
        };
      });
      return sendProblem(request, reply, {
        title: 'Validation failed',
        status: 400,
        detail: `The request ${error.validationContext ?? 'body'} is not valid.`,
        code: 'VALIDATION_FAILED',
        errors,
      });
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) {
      return sendProblem(request, reply, {
        title: HTTP_TITLES[status] ?? 'Bad request',
        status,
        detail: error.message,
        code:
          (error.code && FASTIFY_CODES[error.code]) ||
          (status === 429 ? 'RATE_LIMITED' : 'BAD_REQUEST'),
      });
    }
    if (UNSTORABLE_TEXT.has(postgresErrorCode(error) ?? '')) {
      request.log.info({ err: error }, 'input the database cannot store');
      // NUL is refused only where it would be stored (a program's stdin may hold one), so this
      // is found late; the field is looked up again to name it.
      const path = findText(request.body, NUL) ?? 'body';
      return sendProblem(request, reply, {
        title: 'Validation failed',
        status: 400,
        detail: 'The request holds text that cannot be stored (a NUL character, \\u0000).',
        code: 'VALIDATION_FAILED',
        errors: [{ path, message: 'must not contain a NUL character (\\u0000)' }],
      });
    }
    request.log.error({ err: error }, 'unexpected error');
    return sendProblem(request, reply, {
      title: HTTP_TITLES[500]!,
      status: 500,
      detail: 'Something went wrong on our side. Quote the request id when reporting it.',
      code: 'INTERNAL_ERROR',
    });
  });
}

/** Unknown routes answer 404 problems; `preHandler` lets the rate limiter count them too. */
export function registerNotFoundHandler(
  app: FastifyInstance,
  options: { preHandler?: preHandlerHookHandler } = {},
) {
  app.setNotFoundHandler(
    { ...(options.preHandler ? { preHandler: options.preHandler } : {}) },
    (request, reply) =>
      sendProblem(request, reply, {
        title: 'Not found',
        status: 404,
        detail: `No route ${request.method} ${request.url.split('?')[0]}.`,
        code: 'NOT_FOUND',
      }),
  );
}
