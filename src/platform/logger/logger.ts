import { type DestinationStream, type Logger, pino, stdSerializers } from 'pino';

export type { Logger };

/** Anything that could let a reader act as someone else, or read their answers, stays out of logs. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-auth-token"]',
  'req.headers["x-csrf-token"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.passwordHash',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.otp',
  '*.source',
  '*.secret',
];

export function createLogger(options: {
  level: string;
  name?: string;
  /** Where lines go (stdout by default); tests pass a stream to read them. */
  destination?: DestinationStream;
}): Logger {
  return pino(
    {
      name: options.name ?? 'assay',
      level: options.level,
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: serializeError },
    },
    options.destination,
  );
}

/**
 * Drizzle puts every query parameter (password hashes, token hashes, codes) into a failed query's
 * message and `params`. Keep the SQL and the database's own error; drop the values.
 */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const query = (error as { query?: unknown }).query;
  if (typeof query !== 'string') return withoutLiveObjects(stdSerializers.err(error));
  const cause = (error as { cause?: unknown }).cause;
  const databaseError =
    cause instanceof Error
      ? {
          message: cause.message,
          code: (cause as { code?: unknown }).code,
          detail: (cause as { detail?: unknown }).detail,
        }
      : undefined;
  return {
    type: error.name,
    message: `Failed query: ${query}`,
    query,
    ...(databaseError ? { cause: databaseError } : {}),
    stack: error.stack
      ?.split('\n')
      .filter((line) => !line.startsWith('params:'))
      .join('\n'),
  };
}

/**
 * Libraries hang live objects on their errors: pg-pool puts the whole pg `Client` on an idle
 * connection's error (its connection parameters, and the TLS key and certificate when `ssl` is
 * configured), a socket error can carry the socket. Such a property is logged by its class name
 * only; plain data (codes, details, nested causes) is kept.
 */
function withoutLiveObjects(serialized: Record<string, unknown>): Record<string, unknown> {
  for (const [key, value] of Object.entries(serialized)) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const prototype: unknown = Object.getPrototypeOf(value);
    if (prototype === Object.prototype || prototype === null) continue;
    serialized[key] = `[${value.constructor?.name ?? 'object'}]`;
  }
  return serialized;
}
