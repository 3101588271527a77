import type { FastifyInstance } from 'fastify';

/**
 * A request that says `Content-Type: application/json` and sends no body is read as having no
 * body. Many clients set that header on every request, body or not; Fastify refused such a
 * request with a 400 even on routes that take no body (submitting an attempt, logging out,
 * asking for a report). A route that needs a body still refuses it, through its schema, with
 * a validation error naming `body`. Non-empty bodies go to Fastify's own parser (prototype
 * poisoning refused).
 */
export function registerEmptyJsonBodies(app: FastifyInstance) {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body.length === 0) {
      done(null, undefined);
      return;
    }
    parseJson(request, body.toString(), done);
  });
}
