import { z } from 'zod';

const check = z
  .object({
    status: z.enum(['up', 'down']),
    latencyMs: z.number().int().nonnegative(),
    reason: z
      .string()
      .optional()
      .describe('why it is down, where that is safe to publish (the sandbox: what is missing)'),
  })
  .meta({ id: 'HealthCheck' });

export const healthReport = z
  .object({
    status: z.enum(['ok', 'degraded']),
    checks: z
      .object({ db: check, redis: check.optional(), storage: check, sandbox: check })
      .catchall(check),
    checkedAt: z.iso.datetime(),
  })
  .meta({
    id: 'HealthReport',
    description: 'Dependency checks. 200 while the database answers, 503 otherwise.',
  });
