import type { Redis } from 'ioredis';
import type { Clock } from '../clock/clock.ts';

/** A lease is this share of the limit: what another process may hold unused. */
const LEASE_SHARE = 20;

export type LeasedHit = {
  allowed: boolean;
  /** Hits of the window as far as this process knows (leases of other processes count as used). */
  used: number;
  /** Until the window ends. */
  ttlMs: number;
};

type Entry = {
  windowStart: number;
  /** Tokens of this process's leases not yet spent. */
  left: number;
  /** The window's total in Redis after this process's last lease. */
  total: number;
  /** Redis granted less than asked: the window is used up everywhere. */
  exhausted: boolean;
  pending: Promise<void> | undefined;
};

/**
 * Fixed-window counters shared through Redis without a round trip per hit. The window's count
 * in Redis is the sum of the tokens handed out; a process takes them in leases of limit/20
 * (INCRBY) and spends them locally, so a key goes to Redis once per limit/20 hits, even a
 * student who saves only a few times a minute.
 *
 * Error bound: the limit is never exceeded across processes (a lease is cut to what is left).
 * A client may be refused early by up to the tokens other processes leased and have not spent:
 * at most limit/20 per other process that served that key in the window.
 */
export function createLeasedCounter(options: { redis: Redis; prefix: string; clock: Clock }) {
  const entries = new Map<string, Entry>();
  let hits = 0;

  const lease = async (key: string, entry: Entry, limit: number, windowMs: number) => {
    const size = Math.max(1, Math.floor(limit / LEASE_SHARE));
    const slot = `${options.prefix}:rl:${key}:${entry.windowStart}`;
    const [[incrError, total], [expireError]] = (await options.redis
      .multi()
      .incrby(slot, size)
      .pexpire(slot, windowMs + 1_000)
      .exec()) as [[Error | null, number], [Error | null, unknown]];
    if (incrError ?? expireError) throw incrError ?? expireError;
    const granted = Math.max(0, Math.min(size, limit - (total - size)));
    entry.left += granted;
    entry.total = total;
    entry.exhausted = granted < size;
  };

  const sweep = (now: number, windowMs: number) => {
    for (const [key, entry] of entries)
      if (entry.windowStart + windowMs <= now && !entry.pending) entries.delete(key);
  };

  return {
    async hit(key: string, limit: number, windowMs: number): Promise<LeasedHit> {
      const now = options.clock.now().getTime();
      const windowStart = Math.floor(now / windowMs) * windowMs;
      const windowEnd = windowStart + windowMs;
      if (++hits % 10_000 === 0) sweep(now, windowMs);
      let entry = entries.get(key);
      if (!entry || entry.windowStart !== windowStart) {
        entry = {
          windowStart,
          left: 0,
          total: 0,
          exhausted: false,
          pending: undefined,
        };
        entries.set(key, entry);
      }
      const current = entry;
      // Hits waiting for the same key share one lease; whoever finds it spent asks again.
      while (current.left === 0 && !current.exhausted) {
        current.pending ??= lease(key, current, limit, windowMs).finally(() => {
          current.pending = undefined;
        });
        await current.pending;
      }
      if (current.left === 0) return { allowed: false, used: limit + 1, ttlMs: windowEnd - now };
      current.left -= 1;
      return {
        allowed: true,
        used: Math.min(limit, current.total - current.left),
        ttlMs: windowEnd - now,
      };
    },
  };
}

export type LeasedCounter = ReturnType<typeof createLeasedCounter>;
