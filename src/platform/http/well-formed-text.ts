import type { FastifyInstance } from 'fastify';
import { LONE_SURROGATE } from '../db/storable-text.ts';
import { validationFailed } from '../errors/errors.ts';

/** What JSON and form parsers make; anything else (a Buffer, a stream) is not text to check. */
const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== 'object') return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
};

/**
 * Where the first string (or object key) of a parsed body matches `pattern`, as a path like
 * `body.options[1].text`; undefined when none does. Iterative, so a deeply nested body cannot
 * exhaust the stack; it enters only arrays and plain objects (all a body parser makes).
 */
export function findText(body: unknown, pattern: RegExp): string | undefined {
  const pending: Array<[unknown, string]> = [[body, 'body']];
  while (pending.length > 0) {
    const [value, path] = pending.pop() as [unknown, string];
    if (typeof value === 'string') {
      if (pattern.test(value)) return path;
    } else if (Array.isArray(value)) {
      for (let index = value.length - 1; index >= 0; index -= 1)
        pending.push([value[index], `${path}[${index}]`]);
    } else if (isPlainObject(value)) {
      const entries = Object.entries(value);
      for (let index = entries.length - 1; index >= 0; index -= 1) {
        const [key, item] = entries[index] as [string, unknown];
        if (pattern.test(key)) return path;
        pending.push([item, `${path}.${key}`]);
      }
    }
  }
  return undefined;
}

/** Where the first lone UTF-16 surrogate of a parsed body is (see `findText`). */
export const findLoneSurrogate = (body: unknown) => findText(body, LONE_SURROGATE);

/**
 * JSON may spell half a surrogate pair (`"\ud800"`), which is no character at all: stored in a
 * text column it silently became U+FFFD, in jsonb PostgreSQL refused it (a 500). Every body is
 * refused with a 400 instead, before any route's own validation.
 */
export function registerWellFormedText(app: FastifyInstance) {
  app.addHook('preValidation', async (request) => {
    const path = findLoneSurrogate(request.body);
    if (path !== undefined) {
      throw validationFailed(
        [{ path, message: 'must be valid Unicode (a lone surrogate)' }],
        'The request holds text that is not valid Unicode (a lone UTF-16 surrogate).',
      );
    }
  });
}
