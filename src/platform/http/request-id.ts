import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const ACCEPTABLE = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Keeps a caller's `x-request-id` when it looks like an id (so a trace spans the proxy and us),
 * otherwise makes one. Arbitrary header content never reaches the logs as an id.
 */
export function requestIdFrom(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  const value = Array.isArray(given) ? given[0] : given;
  return value && ACCEPTABLE.test(value) ? value : randomUUID();
}
