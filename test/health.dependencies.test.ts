import { afterEach, describe, expect, inject, it } from 'vitest';
import { openDatabase } from '../src/platform/db/database.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { eventually } from './support/backends.ts';
import { createTestDatabase } from './support/databases.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';

const silent = createLogger({ level: 'silent' });

const health = async (t: TestApp) => {
  const response = await t.app.inject({ method: 'GET', url: '/health' });
  return { code: response.statusCode, body: response.json() };
};

describe('health as dependencies come and go', () => {
  let t: TestApp | undefined;
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    await t?.close();
    t = undefined;
    for (const step of cleanup) await step();
    cleanup = [];
  });

  it('turns 503 when the embedded database is gone', async () => {
    t = await createTestApp();
    expect((await health(t)).code).toBe(200);
    await t.deps.database.close();
    const { code, body } = await health(t);
    expect(code).toBe(503);
    expect(body).toMatchObject({ status: 'degraded', checks: { db: { status: 'down' } } });
  });

  it.runIf(inject('postgresTemplate') !== null)(
    'turns 503 when PostgreSQL goes away and 200 again when it returns, without a restart',
    async () => {
      const database = await createTestDatabase('postgres');
      if (database.location.kind !== 'postgres') throw new Error('expected postgres');
      const real = new URL(database.location.url);
      const proxy = await startTcpProxy({ host: real.hostname, port: Number(real.port || 5432) });
      cleanup.push(
        () => proxy.close(),
        () => database.destroy(),
      );
      const viaProxy = new URL(real);
      viaProxy.port = String(proxy.port);
      const proxied = await openDatabase({
        kind: 'postgres',
        url: viaProxy.toString(),
        poolMax: 2,
        logger: silent,
      });
      t = await createTestApp({
        database: { ...proxied, destroy: () => proxied.close() },
        env: { DATABASE_URL: viaProxy.toString(), HEALTH_CHECK_TIMEOUT_MS: '1500' },
      });
      // Sandbox detection runs in the background; /health counts it down until it is done.
      await t.deps.execution.status();

      expect((await health(t)).code).toBe(200);
      proxy.cut();
      const down = await eventually(async () => {
        const result = await health(t!);
        return result.code === 503 ? result : undefined;
      });
      expect(down.body).toMatchObject({ status: 'degraded', checks: { db: { status: 'down' } } });
      proxy.restore();
      const back = await eventually(async () => {
        const result = await health(t!);
        return result.code === 200 ? result : undefined;
      });
      expect(back.body).toMatchObject({ status: 'ok', checks: { db: { status: 'up' } } });
    },
  );

  it.runIf(inject('redis') !== null)(
    'reports degraded while Redis is away and ok once it is back',
    async () => {
      const redis = inject('redis')!;
      const real = new URL(redis.url);
      const proxy = await startTcpProxy({ host: real.hostname, port: Number(real.port || 6379) });
      cleanup.push(() => proxy.close());
      t = await createTestApp({
        env: {
          REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
          REDIS_PREFIX: `${redis.prefix}-health`,
          HEALTH_CHECK_TIMEOUT_MS: '500',
        },
      });
      // Sandbox detection runs in the background; /health counts it down until it is done.
      await t.deps.execution.status();
      expect(await health(t)).toMatchObject({
        code: 200,
        body: { status: 'ok', checks: { redis: { status: 'up' } } },
      });
      proxy.cut();
      const down = await eventually(async () => {
        const result = await health(t!);
        return result.body.checks.redis.status === 'down' ? result : undefined;
      });
      // The database still answers, so the API stays in the load balancer: 200, but degraded.
      expect(down).toMatchObject({ code: 200, body: { status: 'degraded' } });
      proxy.restore();
      await eventually(
        async () => {
          const result = await health(t!);
          return result.body.status === 'ok' ? result : undefined;
        },
        { timeoutMs: 15_000 },
      );
    },
  );
});
