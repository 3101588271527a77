import { createHmac } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Database } from '../../platform/db/database.ts';
import { otpRecentCodes } from './auth.tables.ts';
import { OTP_HISTORY_SIZE } from './otp.models.ts';

/**
 * Remembers the most recent codes issued (as keyed fingerprints, never the codes) so a new code
 * can be refused when it repeats one. `claim` records the code and says whether it was new.
 */
export type OtpHistory = { claim(code: string, at: Date): Promise<boolean> };

export const otpFingerprint = (secret: string, code: string) =>
  createHmac('sha256', secret).update(`otp:${code}`).digest('base64url');

export function createTableOtpHistory(options: {
  db: Database;
  secret: string;
  size?: number;
}): OtpHistory {
  const size = options.size ?? OTP_HISTORY_SIZE;
  return {
    async claim(code, at) {
      const inserted = await options.db
        .insert(otpRecentCodes)
        .values({ fingerprint: otpFingerprint(options.secret, code), issuedAt: at })
        .onConflictDoNothing()
        .returning({ seq: otpRecentCodes.seq });
      if (inserted.length === 0) return false;
      // Sequence numbers have gaps (a refused insert still draws one), so cut by rank, not arithmetic.
      await options.db
        .delete(otpRecentCodes)
        .where(
          sql`${otpRecentCodes.seq} <= (select ${otpRecentCodes.seq} from ${otpRecentCodes} order by ${otpRecentCodes.seq} desc offset ${size} limit 1)`,
        );
      return true;
    },
  };
}

export function createRedisOtpHistory(options: {
  redis: Redis;
  prefix: string;
  secret: string;
  size?: number;
}): OtpHistory {
  const size = options.size ?? OTP_HISTORY_SIZE;
  const key = `${options.prefix}:otp:recent`;
  const counter = `${options.prefix}:otp:recent:seq`;
  return {
    async claim(code, _at) {
      const fingerprint = otpFingerprint(options.secret, code);
      // A strictly increasing score keeps the order exact even within one millisecond.
      const seq = await options.redis.incr(counter);
      const added = await options.redis.zadd(key, 'NX', seq, fingerprint);
      if (Number(added) !== 1) return false;
      await options.redis.zremrangebyrank(key, 0, -(size + 1));
      return true;
    },
  };
}
