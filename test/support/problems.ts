import { expect } from 'vitest';

/** Asserts a 400 validation problem with an entry at (or under) `path`, saying which case failed. */
export function expectInvalidAt(
  response: { statusCode: number; json(): unknown },
  path: string,
  what: string,
) {
  expect(response.statusCode, what).toBe(400);
  const body = response.json() as { errors?: Array<{ path: string }> };
  const paths = (body.errors ?? []).map((error) => error.path);
  expect(
    paths.some((found) => found.startsWith(path)),
    `${what}: ${paths.join(', ')}`,
  ).toBe(true);
}
