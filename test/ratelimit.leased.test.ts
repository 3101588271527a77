import { afterEach, describe, expect, inject, it, vi } from 'vitest';
import { createTestClock } from '../src/platform/clock/clock.ts';
import { createLogger } from '../src/platform/logger/logger.ts';
import { createLeasedCounter } from '../src/platform/ratelimit/leased-counter.ts';
import { createTestApp, type TestApp } from './support/app.ts';
import { bearer, signedIn } from './support/auth.ts';
import { testRedis } from './support/backends.ts';

const logger = createLogger({ level: 'silent' });
const hasRedis = inject('redis') !== null;
const MINUTE = 60_000;

describe.runIf(hasRedis)('leased rate-limit counters (Redis)', () => {
  const connect = () => testRedis(logger).connect();
  const prefix = () => `leased-${Math.random()}`;

  it('allows exactly the limit in one process, says when the window ends, and resets', async () => {
    const clock = createTestClock('2026-01-01T00:00:10.000Z');
    const counter = createLeasedCounter({ redis: connect(), prefix: prefix(), clock });
    const hits = [];
    for (let index = 0; index < 5; index++) hits.push(await counter.hit('k', 3, MINUTE));
    expect(hits.map((hit) => hit.allowed)).toEqual([true, true, true, false, false]);
    expect(hits[3]).toMatchObject({ used: 4, ttlMs: 50_000 });
    expect((await counter.hit('other', 3, MINUTE)).allowed).toBe(true);
    clock.advance(50_000);
    expect((await counter.hit('k', 3, MINUTE)).allowed).toBe(true);
  });

  it('never lets processes together exceed the limit, and refuses early by at most their unspent leases', async () => {
    const clock = createTestClock('2026-01-01T00:00:00.000Z');
    const shared = prefix();
    const a = createLeasedCounter({ redis: connect(), prefix: shared, clock });
    const b = createLeasedCounter({ redis: connect(), prefix: shared, clock });
    const limit = 200;
    let allowed = 0;
    for (let index = 0; index < 400; index++) {
      // Bursts from both at once, as two API processes behind a load balancer see them.
      const burst = await Promise.all([a.hit('u', limit, MINUTE), b.hit('u', limit, MINUTE)]);
      allowed += burst.filter((hit) => hit.allowed).length;
    }
    expect(allowed).toBeLessThanOrEqual(limit);
    // Each process may hold at most limit/20 leased tokens the other could have used.
    expect(allowed).toBeGreaterThanOrEqual(limit - 2 * (limit / 20));
  });

  it('goes to Redis once per lease, not once per hit', async () => {
    const clock = createTestClock('2026-01-01T00:00:00.000Z');
    const redis = connect();
    const multi = vi.spyOn(redis, 'multi');
    const counter = createLeasedCounter({ redis, prefix: prefix(), clock });
    for (let index = 0; index < 600; index++)
      expect((await counter.hit('busy', 600, MINUTE)).allowed).toBe(true);
    // Leases of 30, a twentieth of the limit: 20 round trips for 600 hits.
    expect(multi).toHaveBeenCalledTimes(20);
    // The next lease gets nothing and tells this process the window is used up...
    expect((await counter.hit('busy', 600, MINUTE)).allowed).toBe(false);
    expect(multi).toHaveBeenCalledTimes(21);
    // ...so it refuses without asking again.
    expect((await counter.hit('busy', 600, MINUTE)).allowed).toBe(false);
    expect(multi).toHaveBeenCalledTimes(21);
  });
});

describe.runIf(hasRedis)('global rate limit shared through Redis', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('counts a user across API processes', async () => {
    const redis = inject('redis')!;
    const env = {
      RATE_LIMIT_USER_PER_MINUTE: '5',
      REDIS_URL: redis.url,
      REDIS_PREFIX: `${redis.prefix}-global-${Date.now()}`,
    };
    const a = await createTestApp({ env });
    const b = await createTestApp({ env, database: a.database });
    apps.push(b, a);
    for (const t of [a, b]) t.clock.set('2026-01-01T10:00:00.000Z');
    const session = await signedIn(a, 'student');
    const codes: number[] = [];
    for (let index = 0; index < 6; index++) {
      const t = index % 2 === 0 ? a : b;
      codes.push(
        (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer(session) }))
          .statusCode,
      );
    }
    expect(codes).toEqual([200, 200, 200, 200, 200, 429]);
  });
});
