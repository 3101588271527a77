import argon2 from 'argon2';
import { AppError } from '../errors/errors.ts';

/**
 * argon2id with OWASP's first recommended setting: 46 MiB, one pass, one lane. One verification
 * takes 57–72 ms on one core of the development machine (bench/login.bench.ts measures it),
 * inside the 50–250 ms band we aim for: slow for an attacker, quick enough for people. Older
 * hashes keep verifying with the parameters stored in them.
 */
export const PASSWORD_HASH_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 47_104,
  timeCost: 1,
  parallelism: 1,
} as const;

/**
 * Each hash holds 46 MiB and a libuv thread for ~70 ms, so a flood of sign-ups or sign-ins could
 * exhaust memory and starve every other request. At most this many run at once; a bounded
 * queue waits behind them, and past it the server answers 503 rather than falling over.
 */
const MAX_CONCURRENT = 4;
const MAX_WAITING = 200;
let running = 0;
const waiting: Array<() => void> = [];

const busy = () =>
  new AppError({
    code: 'SERVER_BUSY',
    status: 503,
    title: 'Too busy',
    detail: 'Too many sign-ins at once; try again in a moment.',
    headers: { 'retry-after': '2' },
  });

async function gated<T>(work: () => Promise<T>): Promise<T> {
  if (running >= MAX_CONCURRENT) {
    if (waiting.length >= MAX_WAITING) throw busy();
    // A finishing hash hands its slot straight to the next in line.
    await new Promise<void>((resolve) => waiting.push(resolve));
  } else {
    running += 1;
  }
  try {
    return await work();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running -= 1;
  }
}

export async function hashPassword(password: string): Promise<string> {
  return gated(() => argon2.hash(password, PASSWORD_HASH_OPTIONS));
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  return gated(async () => {
    try {
      return await argon2.verify(hash, password);
    } catch {
      return false;
    }
  });
}
