import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  createRedisOtpHistory,
  createTableOtpHistory,
  type OtpHistory,
} from '../src/modules/auth/otp-history.ts';
import { createTestClock } from '../src/platform/clock/clock.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import {
  createMemoryRateLimiter,
  createRedisRateLimiter,
  type RateLimiter,
} from '../src/platform/ratelimit/limiter.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, STRONG_PASSWORD, signedIn } from './support/auth.ts';
import { testRedis } from './support/backends.ts';
import { createTestDatabase, databaseKinds, type TestDatabase } from './support/databases.ts';

const logger = createLogger({ level: 'silent' });
const hasRedis = inject('redis') !== null;

describe('login rate limit', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  const attempt = (t: TestApp, email: string, ip = '127.0.0.1') =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: ip,
      payload: { email, password: 'wrong password here' },
    });

  it('allows 10 attempts per minute per email, then 429 with Retry-After (test clock)', async () => {
    const t = await createTestApp({ env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10' } });
    apps.push(t);
    t.clock.set('2026-01-01T10:00:30.000Z');
    const statuses: number[] = [];
    for (let index = 0; index < 10; index++)
      statuses.push((await attempt(t, 'victim@example.com', `10.0.0.${index}`)).statusCode);
    expect(statuses).toEqual(Array(10).fill(401));
    const limited = await attempt(t, 'victim@example.com', '10.0.0.99');
    expect(limited.statusCode).toBe(429);
    expect(limited.json().code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBe(30);
    t.clock.advance(30_000);
    expect((await attempt(t, 'victim@example.com', '10.0.0.100')).statusCode).toBe(401);
  });

  it('allows 10 attempts per minute per IP across emails', async () => {
    const t = await createTestApp({ env: { RATE_LIMIT_LOGIN_PER_MINUTE: '10' } });
    apps.push(t);
    for (let index = 0; index < 10; index++)
      expect((await attempt(t, `user${index}@example.com`, '192.0.2.7')).statusCode).toBe(401);
    expect((await attempt(t, 'user-next@example.com', '192.0.2.7')).statusCode).toBe(429);
    expect((await attempt(t, 'user-next@example.com', '192.0.2.8')).statusCode).toBe(401);
  });

  it.runIf(hasRedis)('shares login counters between API processes through Redis', async () => {
    const redis = inject('redis')!;
    const env = {
      RATE_LIMIT_LOGIN_PER_MINUTE: '4',
      REDIS_URL: redis.url,
      REDIS_PREFIX: `${redis.prefix}-login-${Date.now()}`,
    };
    const a = await createTestApp({ env });
    const b = await createTestApp({ env });
    apps.push(a, b);
    a.clock.set('2026-01-01T10:00:00.000Z');
    b.clock.set('2026-01-01T10:00:00.000Z');
    expect((await attempt(a, 'shared@example.com', '10.1.0.1')).statusCode).toBe(401);
    expect((await attempt(b, 'shared@example.com', '10.1.0.2')).statusCode).toBe(401);
    expect((await attempt(a, 'shared@example.com', '10.1.0.3')).statusCode).toBe(401);
    expect((await attempt(b, 'shared@example.com', '10.1.0.4')).statusCode).toBe(401);
    expect((await attempt(a, 'shared@example.com', '10.1.0.5')).statusCode).toBe(429);
  });
});

describe('global rate limit', () => {
  it('limits anonymous callers per IP and signed-in users per user', async () => {
    const t = await createTestApp({
      env: { RATE_LIMIT_ANONYMOUS_PER_MINUTE: '3', RATE_LIMIT_USER_PER_MINUTE: '5' },
    });
    try {
      const codes: number[] = [];
      for (let index = 0; index < 4; index++) {
        codes.push(
          (
            await t.app.inject({
              method: 'GET',
              url: '/api/v1/auth/csrf',
              remoteAddress: '203.0.113.5',
            })
          ).statusCode,
        );
      }
      expect(codes).toEqual([200, 200, 200, 429]);
      const limited = await t.app.inject({
        method: 'GET',
        url: '/api/v1/auth/csrf',
        remoteAddress: '203.0.113.5',
      });
      expect(limited.json()).toMatchObject({ status: 429, code: 'RATE_LIMITED' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      // Unknown routes are counted too, so scanning for them is not free.
      expect(
        (await t.app.inject({ method: 'GET', url: '/nope', remoteAddress: '203.0.113.5' }))
          .statusCode,
      ).toBe(429);
      // /health is for probes and is never limited.
      expect(
        (await t.app.inject({ method: 'GET', url: '/health', remoteAddress: '203.0.113.5' }))
          .statusCode,
      ).toBe(200);

      const session = await signedIn(t, 'student');
      const mine: number[] = [];
      for (let index = 0; index < 6; index++) {
        mine.push(
          (
            await t.app.inject({
              method: 'GET',
              url: '/api/v1/auth/me',
              headers: bearer(session),
              remoteAddress: `198.51.100.${index}`,
            })
          ).statusCode,
        );
      }
      expect(mine).toEqual([200, 200, 200, 200, 200, 429]);
    } finally {
      await t.close();
    }
  });
});

describe.each([
  {
    name: 'memory',
    make: (clock: ReturnType<typeof createTestClock>): RateLimiter =>
      createMemoryRateLimiter({ clock }),
  },
  ...(hasRedis
    ? [
        {
          name: 'redis',
          make: (clock: ReturnType<typeof createTestClock>): RateLimiter =>
            createRedisRateLimiter({
              redis: testRedis(logger).connect(),
              prefix: `rl-${Math.random()}`,
              clock,
            }),
        },
      ]
    : []),
])('fixed-window limiter ($name)', ({ make }) => {
  it('counts per key and window, and says when to retry', async () => {
    const clock = createTestClock('2026-01-01T00:00:10.000Z');
    const limiter = make(clock);
    const rule = { limit: 2, windowMs: 60_000 };
    expect((await limiter.hit('k', rule)).allowed).toBe(true);
    expect((await limiter.hit('k', rule)).allowed).toBe(true);
    expect(await limiter.hit('k', rule)).toEqual({
      allowed: false,
      remaining: 0,
      retryAfterSeconds: 50,
    });
    expect((await limiter.hit('other', rule)).allowed).toBe(true);
    clock.advance(50_000);
    expect((await limiter.hit('k', rule)).allowed).toBe(true);
  });
});

const histories: Array<{
  name: string;
  make: (database: TestDatabase, size: number) => OtpHistory;
}> = [
  ...databaseKinds().map((kind) => ({
    name: `table on ${kind}`,
    make: (database: TestDatabase, size: number) =>
      createTableOtpHistory({ db: database.db, secret: 's', size }),
  })),
  ...(hasRedis
    ? [
        {
          name: 'redis',
          make: (_database: TestDatabase, size: number) =>
            createRedisOtpHistory({
              redis: testRedis(logger).connect(),
              prefix: `otp-${Math.random()}`,
              secret: 's',
              size,
            }),
        },
      ]
    : []),
];

describe.each(histories)('recent code history ($name)', ({ name, make }) => {
  it('refuses a code among the most recent ones and forgets the older ones', async () => {
    const database = await createTestDatabase(name.endsWith('postgres') ? 'postgres' : 'pglite');
    try {
      const history = make(database, 3);
      const at = new Date();
      expect(await history.claim('AAAAAA', at)).toBe(true);
      expect(await history.claim('AAAAAA', at)).toBe(false);
      for (const code of ['BBBBBB', 'CCCCCC']) expect(await history.claim(code, at)).toBe(true);
      expect(await history.claim('AAAAAA', at)).toBe(false); // still among the last 3
      expect(await history.claim('DDDDDD', at)).toBe(true); // pushes AAAAAA out
      expect(await history.claim('AAAAAA', at)).toBe(true);
      expect(await history.claim('CCCCCC', at)).toBe(false);
    } finally {
      await database.destroy();
    }
  });
});

describe('the 20,000-code window', () => {
  it('is what production uses', async () => {
    const { OTP_HISTORY_SIZE } = await import('../src/modules/auth/otp.models.ts');
    expect(OTP_HISTORY_SIZE).toBe(20_000);
    expect(STRONG_PASSWORD.length).toBeGreaterThan(8);
  });
});
