import { describe, expect, it } from 'vitest';
import { firstWait, type Random, thinkTime } from '../bench/lib/think-time.ts';

/** A seeded generator, so the check is the same on every run. */
function seeded(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Saves per window of `windowMs` over `spanMs`, for students answering instantly. */
function arrivals(
  students: number,
  mean: number,
  first: (random: Random) => number,
  windowMs: number,
  spanMs: number,
): number[] {
  const random = seeded(42);
  const counts = new Array<number>(Math.ceil(spanMs / windowMs)).fill(0);
  for (let student = 0; student < students; student++) {
    for (let at = first(random); at < spanMs; at += thinkTime(mean, random)) {
      counts[Math.floor(at / windowMs)]! += 1;
    }
  }
  return counts;
}

describe('bench think times', () => {
  const students = 20_000;
  const mean = 500;
  const steady = (students / mean) * 100; // saves per 100 ms window

  it('starts the saves at their steady rate: no window of the first cycles is 10% off', () => {
    const counts = arrivals(students, mean, (random) => firstWait(mean, random), 100, 2_000);
    for (const count of counts) expect(Math.abs(count / steady - 1)).toBeLessThan(0.1);
  });

  it('a uniform first wait would burst (what the first wait corrects)', () => {
    const counts = arrivals(students, mean, (random) => mean * random(), 100, 2_000);
    expect(Math.max(...counts) / steady).toBeGreaterThan(1.3);
  });

  it('first waits stay within the longest think time', () => {
    const random = seeded(7);
    for (let i = 0; i < 10_000; i++) {
      const wait = firstWait(mean, random);
      expect(wait).toBeGreaterThanOrEqual(0);
      expect(wait).toBeLessThanOrEqual(1.5 * mean);
    }
  });
});
