import type { Logger } from '../../platform/logger/logger.ts';
import { withTimeout } from '../../platform/redis/redis.ts';
import { healthReport } from './health.schemas.ts';

export type CheckResult = { status: 'up' | 'down'; latencyMs: number; reason?: string };

export type HealthReport = {
  status: 'ok' | 'degraded';
  checks: {
    db: CheckResult;
    storage: CheckResult;
    sandbox: CheckResult;
    redis?: CheckResult;
  } & Record<string, CheckResult>;
  checkedAt: string;
};

export type HealthCheck = {
  name: string;
  critical: boolean;
  run: () => Promise<unknown>;
  /** The failure's message is safe to publish and tells operators what to fix (the sandbox's). */
  explains?: boolean;
};

/**
 * Runs every dependency probe with a timeout and keeps the report for `cacheMs`, so a flood of
 * `/health` calls (load balancers, dashboards) does not become a flood of database queries.
 * Concurrent callers share one round of probes.
 */
export function createHealthService(options: {
  checks: readonly HealthCheck[];
  cacheMs: number;
  timeoutMs: number;
  logger: Logger;
}) {
  let cached: { report: HealthReport; healthy: boolean; json: string; at: number } | undefined;
  let inFlight: Promise<{ report: HealthReport; healthy: boolean; json: string }> | undefined;
  const lastState = new Map<string, CheckResult['status']>();

  const probe = async (check: HealthCheck): Promise<CheckResult> => {
    const started = performance.now();
    try {
      await withTimeout(Promise.resolve().then(check.run), options.timeoutMs, check.name);
      return { status: 'up', latencyMs: Math.round(performance.now() - started) };
    } catch (error) {
      if (lastState.get(check.name) !== 'down') {
        options.logger.warn({ err: error, check: check.name }, 'health check failed');
      }
      return {
        status: 'down',
        latencyMs: Math.round(performance.now() - started),
        ...(check.explains && error instanceof Error ? { reason: error.message } : {}),
      };
    }
  };

  const runAll = async () => {
    const results = await Promise.all(options.checks.map(probe));
    const checks: Record<string, CheckResult> = {};
    const missing: CheckResult = { status: 'down', latencyMs: 0 };
    let healthy = true;
    let degraded = false;
    options.checks.forEach((check, index) => {
      const result = results[index]!;
      checks[check.name] = result;
      if (lastState.get(check.name) === 'down' && result.status === 'up') {
        options.logger.info({ check: check.name }, 'health check recovered');
      }
      lastState.set(check.name, result.status);
      if (result.status === 'down') {
        degraded = true;
        if (check.critical) healthy = false;
      }
    });
    const report: HealthReport = {
      status: degraded ? 'degraded' : 'ok',
      checks: {
        ...checks,
        db: checks.db ?? missing,
        storage: checks.storage ?? missing,
        sandbox: checks.sandbox ?? missing,
      },
      checkedAt: new Date().toISOString(),
    };
    // Validated against the documented schema once per round, then served as a string.
    return { report, healthy, json: JSON.stringify(healthReport.parse(report)) };
  };

  return {
    /** `healthy` is false when a critical dependency (the database) is down: serve 503 then. */
    async check(): Promise<{ report: HealthReport; healthy: boolean; json: string }> {
      const now = Date.now();
      if (cached && now - cached.at < options.cacheMs) return cached;
      if (!inFlight) {
        inFlight = runAll()
          .then((result) => {
            cached = { ...result, at: Date.now() };
            return result;
          })
          .finally(() => {
            inFlight = undefined;
          });
      }
      return inFlight;
    },
  };
}

export type HealthService = ReturnType<typeof createHealthService>;
