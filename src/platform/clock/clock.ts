/** Time as the application sees it; tests swap in a clock they can move by hand. */
export type Clock = {
  now(): Date;
};

export const systemClock: Clock = { now: () => new Date() };

export type TestClock = Clock & {
  set(at: Date | string): void;
  advance(ms: number): void;
};

export function createTestClock(start: Date | string = '2026-01-01T00:00:00.000Z'): TestClock {
  let current = new Date(start).getTime();
  return {
    now: () => new Date(current),
    set: (at) => {
      current = new Date(at).getTime();
    },
    advance: (ms) => {
      current += ms;
    },
  };
}
