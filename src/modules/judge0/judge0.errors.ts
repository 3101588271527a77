import { AppError } from '../../platform/errors/errors.ts';
import type { ValidationErrors } from './judge0.models.ts';

/**
 * An error a Judge0 client must see in Judge0's own shape (`{ error }` or `{ field: [..] }`),
 * not as a problem document. The /judge0 routes send `body`; anywhere else it is a plain
 * AppError, so nothing is lost if one escapes.
 */
export class Judge0Error extends AppError {
  readonly body: Record<string, unknown>;

  constructor(options: {
    status: number;
    code: string;
    title: string;
    body: Record<string, unknown>;
    headers?: Record<string, string>;
  }) {
    const detail = typeof options.body.error === 'string' ? options.body.error : options.title;
    super({
      code: options.code,
      status: options.status,
      title: options.title,
      detail,
      ...(options.headers ? { headers: options.headers } : {}),
    });
    this.name = 'Judge0Error';
    this.body = options.body;
  }
}

export const isJudge0Error = (error: unknown): error is Judge0Error => error instanceof Judge0Error;

/** Rails' `submission.errors` with 422. */
export const judge0Invalid = (errors: ValidationErrors) =>
  new Judge0Error({
    status: 422,
    code: 'JUDGE0_INVALID_SUBMISSION',
    title: 'Invalid submission',
    body: errors,
  });

export const judge0BadRequest = (error: string) =>
  new Judge0Error({
    status: 400,
    code: 'JUDGE0_BAD_REQUEST',
    title: 'Bad request',
    body: { error },
  });

/** What Rails answers for a record it cannot find (ActionDispatch's JSON 404). */
export const judge0NotFound = () =>
  new Judge0Error({
    status: 404,
    code: 'JUDGE0_NOT_FOUND',
    title: 'Not found',
    body: { status: 404, error: 'Not Found' },
  });

export const judge0QueueFull = () =>
  new Judge0Error({
    status: 503,
    code: 'JUDGE0_QUEUE_FULL',
    title: 'Queue is full',
    body: { error: 'queue is full' },
    headers: { 'retry-after': '5' },
  });

export const CONVERSION_ERROR =
  'some attributes for this submission cannot be converted to UTF-8, use base64_encoded=true query parameter';
export const BATCH_CONVERSION_ERROR =
  'some attributes for one or more submissions cannot be converted to UTF-8, use base64_encoded=true query parameter';

export const batchTooLarge = (max: number) =>
  judge0BadRequest(`number of submissions in a batch should be less than or equal to ${max}`);
export const batchEmpty = () =>
  judge0BadRequest('there should be at least one submission in a batch');
