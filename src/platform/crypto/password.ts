import argon2 from 'argon2';

/**
 * argon2id with OWASP's first recommended setting: 46 MiB, one pass, one lane. One verification
 * takes about 67 ms on one core of the development machine (bench/login.bench.ts measures it),
 * inside the 50–250 ms band we aim for: slow for an attacker, quick enough for people. Older
 * hashes keep verifying with the parameters stored in them.
 */
export const PASSWORD_HASH_OPTIONS = {
  type: argon2.argon2id,
  memoryCost: 47_104,
  timeCost: 1,
  parallelism: 1,
} as const;

export async function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, PASSWORD_HASH_OPTIONS);
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}
